import type { Inputs } from '../inputs';
import type { RunContext } from '../context';
import { InputError } from '../errors';
import { parseImage, type ImageName } from './image';
import { planTags, platformTag, shortSha } from './tags';
import { deriveExpectation, indexUrl, type Expectation } from './torch';

/** Everything one platform needs to be built and verified. Pure data, made before any build. */
export interface PlatformPlan {
  platform: string;
  arch: string;
  machine: string;
  binfmt: string;
  variant: string;
  buildArgs: Record<string, string>;
  expect: Expectation;
  /** Local and pushed reference of this platform's image: IMAGE:<tag>-<arch>. */
  ref: string;
}

export interface Plan {
  image: ImageName;
  tags: string[];
  labels: Record<string, string>;
  platforms: PlatformPlan[];
}

/** Build args the action sets itself; a user build-arg of the same name is refused, not merged. */
const OWN_ARGS = ['TORCH_VERSION', 'TORCHAUDIO_VERSION', 'TORCH_VARIANT', 'TORCH_INDEX_URL', 'BUILD_COMMIT', 'BUILD_TIME'];

/** UTC ISO-8601 to the second, as `date -u +%Y-%m-%dT%H:%M:%SZ` prints it. */
export function isoSeconds(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function createPlan(inputs: Inputs, ctx: RunContext, now: Date): Plan {
  const image = parseImage(inputs.image);
  const tags = planTags(inputs.tags, ctx);
  const commit = ctx.sha ? shortSha(ctx.sha) : 'unknown';
  const created = isoSeconds(now);

  for (const a of inputs.buildArgs) {
    if (OWN_ARGS.includes(a.name)) {
      throw new InputError('build-args', `${a.name} is set by the action from the torch inputs; set torch-version, torchaudio-version, torch-variants or torch-index-url instead`);
    }
  }
  for (const p of Object.keys(inputs.expect)) {
    if (!inputs.platforms.some((q) => q.platform === p)) {
      throw new InputError('expect', `${p} is not among the platforms being built (${inputs.platforms.map((q) => q.platform).join(', ')})`);
    }
  }

  const labels: Record<string, string> = {
    'org.opencontainers.image.created': created,
    ...(ctx.sha ? { 'org.opencontainers.image.revision': ctx.sha } : {}),
    ...(ctx.repository ? { 'org.opencontainers.image.source': `${ctx.serverUrl}/${ctx.repository}` } : {}),
    'io.ml-image-build.torch.version': inputs.torchVersion,
    'io.ml-image-build.torchaudio.version': inputs.torchaudioVersion,
  };

  const platforms = inputs.platforms.map((p): PlatformPlan => {
    const variant = inputs.torchVariants[p.platform];
    const derived = deriveExpectation(p, variant, inputs.torchVersion, inputs.torchaudioVersion);
    const buildArgs: Record<string, string> = {
      TORCH_VERSION: inputs.torchVersion,
      TORCHAUDIO_VERSION: inputs.torchaudioVersion,
      TORCH_VARIANT: variant,
      TORCH_INDEX_URL: indexUrl(inputs.torchIndexUrl, variant),
      BUILD_COMMIT: commit,
      BUILD_TIME: created,
    };
    // Platform-specific args come after shared ones so they win.
    for (const a of inputs.buildArgs.filter((a) => !a.platform)) buildArgs[a.name] = a.value;
    for (const a of inputs.buildArgs.filter((a) => a.platform === p.platform)) buildArgs[a.name] = a.value;
    return {
      ...p,
      variant,
      buildArgs,
      expect: { ...derived, ...inputs.expect[p.platform] },
      ref: `${image.name}:${platformTag(tags, p.arch)}`,
    };
  });

  return { image, tags, labels, platforms };
}
