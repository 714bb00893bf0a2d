import type { Inputs } from '../inputs';
import { annotationsFor } from '../plan/annotations';
import type { Plan, PlatformPlan } from '../plan/plan';
import { cacheCsv, scopedCache, type CacheSpec } from './options';

type BuildInputs = Pick<Inputs, 'context' | 'file' | 'target' | 'network' | 'build'>;

/** A BuildKit secret and the file it is read from (a private temp file for `secrets`, the user's for `secret-files`). */
export interface SecretSource {
  id: string;
  src: string;
}

/**
 * What keeps one image's platforms apart in a shared cache: the arch, after the config entry's
 * name when there are several images (gha also puts the repository's last part first).
 */
export function cacheKey(plan: Plan, p: PlatformPlan): string {
  return plan.name === 'default' ? p.arch : `${plan.name}-${p.arch}`;
}

function scoped(plan: Plan, p: PlatformPlan, c: CacheSpec, direction: 'from' | 'to'): CacheSpec {
  const key = cacheKey(plan, p);
  return scopedCache(c, c.type === 'gha' ? `${plan.image.repository.split('/').pop()}-${key}` : key, direction);
}

/**
 * What every build of a platform shares, so the push-by-digest rebuild is the verified build to
 * the letter: whatever changes what a RUN sees (secrets, ssh, build contexts, /dev/shm, ulimits)
 * is here, since the rebuild may miss the cache and run the RUN again; an inline cache changes
 * the image config, so it is here too.
 */
function common(plan: Plan, p: PlatformPlan, inputs: BuildInputs, secrets: SecretSource[], buildx: boolean): string[] {
  const o = inputs.build;
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
  for (const s of secrets) argv.push('--secret', `id=${s.id},src=${s.src}`);
  for (const s of o.ssh) argv.push('--ssh', s.paths.length ? `${s.id}=${s.paths.join(',')}` : s.id);
  for (const c of o.buildContexts) argv.push('--build-context', `${c.name}=${c.value}`);
  if (o.shmSize) argv.push('--shm-size', o.shmSize);
  for (const u of o.ulimits) argv.push('--ulimit', `${u.name}=${u.soft}:${u.hard}`);
  for (const c of o.cacheFrom) {
    const s = scoped(plan, p, c, 'from');
    // docker build (engine BuildKit) takes image refs only; builderRefusal has refused other types.
    argv.push('--cache-from', buildx ? cacheCsv(s) : s.attrs.find(([k]) => k === 'ref')![1]);
  }
  if (o.cacheTo.some((c) => c.type === 'inline')) argv.push(...(buildx ? ['--cache-to', 'type=inline'] : ['--build-arg', 'BUILDKIT_INLINE_CACHE=1']));
  return argv;
}

/**
 * The build command for one platform. With the buildx plugin (GitHub-hosted runners) the image is
 * built by `buildx build --load`; without it (distro Docker on self-hosted boxes) by the engine's
 * own BuildKit through `docker build` with DOCKER_BUILDKIT=1. Both load a single-platform image
 * into the engine so it can be run and verified before anything is pushed. `--pull`, `--no-cache`
 * and a cache export happen in this build only: in the rebuild, a newer base or a rebuilt layer
 * would give another image than the verified one, and the cache is already written.
 */
export function buildArgv(plan: Plan, p: PlatformPlan, inputs: BuildInputs, buildx: boolean, iidfile: string, secrets: SecretSource[]): string[] {
  const head = buildx ? ['buildx', 'build', '--load'] : ['build'];
  const once: string[] = [];
  if (inputs.build.pull) once.push('--pull');
  if (inputs.build.noCache) once.push('--no-cache');
  for (const c of inputs.build.cacheTo) if (c.type !== 'inline') once.push('--cache-to', cacheCsv(scoped(plan, p, c, 'to')));
  return [...head, ...common(plan, p, inputs, secrets, buildx), ...once, '--tag', p.ref, '--iidfile', iidfile, inputs.context];
}

/**
 * The same build once more, pushed by BuildKit by digest (no tag) straight from its build cache:
 * no `docker save`, no copy on disk. Provenance and SBOM attestations are off so the pushed
 * manifest is the plain image that was verified (its config digest is compared with the verified
 * image ID afterwards, and a mismatch falls back to pushing the verified image itself).
 */
export function pushByDigestArgv(plan: Plan, p: PlatformPlan, inputs: BuildInputs, metadataFile: string, secrets: SecretSource[]): string[] {
  // This platform's `manifest` annotations (a [PLATFORM] line already resolved: the build has one
  // platform). Annotations need OCI media types; asked for explicitly rather than left to
  // BuildKit's silent switch, so the streamed fallback writes the same kind of manifest.
  const annotations = Object.entries(annotationsFor(plan.annotations, 'manifest', p.platform));
  const oci = annotations.length ? ',oci-mediatypes=true' : '';
  return [
    'buildx',
    'build',
    ...common(plan, p, inputs, secrets, true),
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
