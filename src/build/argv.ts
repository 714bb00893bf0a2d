import type { Inputs } from '../inputs';
import { annotationsFor } from '../plan/annotations';
import type { Plan, PlatformPlan } from '../plan/plan';

type BuildInputs = Pick<Inputs, 'context' | 'file' | 'target' | 'network'>;

/** What every build of a platform shares, so the push-by-digest rebuild is the verified build to the letter. */
function common(plan: Plan, p: PlatformPlan, inputs: BuildInputs): string[] {
  const argv = ['--platform', p.platform, '--file', inputs.file];
  if (inputs.target) argv.push('--target', inputs.target);
  if (inputs.network) argv.push('--network', inputs.network);
  for (const [k, v] of Object.entries(p.buildArgs)) argv.push('--build-arg', `${k}=${v}`);
  const labels: Record<string, string> = {
    ...plan.labels,
    'io.ml-image-build.torch.variant': p.variant,
    'io.ml-image-build.platform': p.platform,
  };
  for (const [k, v] of Object.entries(labels)) argv.push('--label', `${k}=${v}`);
  return argv;
}

/**
 * The build command for one platform. With the buildx plugin (GitHub-hosted runners) the image is
 * built by `buildx build --load`; without it (distro Docker on self-hosted boxes) by the engine's
 * own BuildKit through `docker build` with DOCKER_BUILDKIT=1. Both load a single-platform image
 * into the engine so it can be run and verified before anything is pushed.
 */
export function buildArgv(plan: Plan, p: PlatformPlan, inputs: BuildInputs, buildx: boolean, iidfile: string): string[] {
  const head = buildx ? ['buildx', 'build', '--load'] : ['build'];
  return [...head, ...common(plan, p, inputs), '--tag', p.ref, '--iidfile', iidfile, inputs.context];
}

/**
 * The same build once more, pushed by BuildKit by digest (no tag) straight from its build cache:
 * no `docker save`, no copy on disk. Provenance and SBOM attestations are off so the pushed
 * manifest is the plain image that was verified (its config digest is compared with the verified
 * image ID afterwards, and a mismatch falls back to pushing the verified image itself).
 */
export function pushByDigestArgv(plan: Plan, p: PlatformPlan, inputs: BuildInputs, metadataFile: string): string[] {
  // This platform's `manifest` annotations (a [PLATFORM] line already resolved: the build has one
  // platform). Annotations need OCI media types; asked for explicitly rather than left to
  // BuildKit's silent switch, so the streamed fallback writes the same kind of manifest.
  const annotations = Object.entries(annotationsFor(plan.annotations, 'manifest', p.platform));
  const oci = annotations.length ? ',oci-mediatypes=true' : '';
  return [
    'buildx',
    'build',
    ...common(plan, p, inputs),
    '--provenance=false',
    '--sbom=false',
    ...annotations.flatMap(([k, v]) => ['--annotation', `manifest:${k}=${v}`]),
    '--output',
    `type=image,name=${plan.image.name},push-by-digest=true,name-canonical=true,push=true${oci}`,
    '--metadata-file',
    metadataFile,
    inputs.context,
  ];
}
