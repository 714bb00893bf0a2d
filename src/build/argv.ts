import type { Inputs } from '../inputs';
import type { Plan, PlatformPlan } from '../plan/plan';

/**
 * The build command for one platform. With the buildx plugin (GitHub-hosted runners) the image is
 * built by `buildx build --load`; without it (distro Docker on self-hosted boxes) by the engine's
 * own BuildKit through `docker build` with DOCKER_BUILDKIT=1. Both load a single-platform image
 * into the engine so it can be run and verified before anything is pushed.
 */
export function buildArgv(plan: Plan, p: PlatformPlan, inputs: Pick<Inputs, 'context' | 'file' | 'target' | 'network'>, buildx: boolean, iidfile: string): string[] {
  const argv = buildx ? ['buildx', 'build', '--load'] : ['build'];
  argv.push('--platform', p.platform, '--file', inputs.file, '--tag', p.ref, '--iidfile', iidfile);
  if (inputs.target) argv.push('--target', inputs.target);
  if (inputs.network) argv.push('--network', inputs.network);
  for (const [k, v] of Object.entries(p.buildArgs)) argv.push('--build-arg', `${k}=${v}`);
  const labels: Record<string, string> = {
    ...plan.labels,
    'io.ml-image-build.torch.variant': p.variant,
    'io.ml-image-build.platform': p.platform,
  };
  for (const [k, v] of Object.entries(labels)) argv.push('--label', `${k}=${v}`);
  argv.push(inputs.context);
  return argv;
}
