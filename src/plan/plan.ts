import type { RunContext } from '../context';
import { InputError } from '../errors';
import type { Inputs } from '../inputs';
import type { Annotation } from './annotations';
import { parseImage, type ImageName } from './image';
import { planLabels } from './labels';
import { tableResolution, type TorchResolution, type WheelSource } from './preflight';
import { parseTagRules, planTags, platformTag, shortSha } from './tags';
import { indexUrl, type Expectation } from './torch';
import type { PlatformWheels } from './wheel-index';

/** Everything one platform needs to be built and verified. Pure data, made before any build. */
export interface PlatformPlan {
  platform: string;
  arch: string;
  machine: string;
  binfmt: string;
  variant: string;
  buildArgs: Record<string, string>;
  expect: Expectation;
  /** Local reference of this platform's image (it is pushed by digest, not by this tag). */
  ref: string;
  /** The wheels the index holds for this platform (absent when the table decided). */
  wheels?: PlatformWheels;
}

export interface Plan {
  /** 'default' without a config file; the entry's name with one. */
  name: string;
  suffix: string;
  image: ImageName;
  tags: string[];
  push: boolean;
  /** Why these tags (and push or not): "push to default branch main", "pull request #42", ... */
  tagReason: string;
  /** The image config's labels: the plan's OCI and torch labels with the `labels` input merged over the OCI ones. */
  labels: Record<string, string>;
  /** The `annotations` input: platform manifests, the manifest list, its entries (see annotations.ts). */
  annotations: Annotation[];
  /** When the plan was made (UTC, to the second): BUILD_TIME, and the time of the verification report. */
  created: string;
  platforms: PlatformPlan[];
  /** Where the torch expectations come from: the wheel index, or the bundled table. */
  wheelSource: WheelSource;
  warnings: string[];
  /** The parsed inputs this image was planned from (build and verify settings). */
  inputs: Inputs;
}

/** Build args the action sets itself; a user build-arg of the same name is refused, not merged. */
const OWN_ARGS = ['TORCH_VERSION', 'TORCHAUDIO_VERSION', 'TORCHVISION_VERSION', 'TORCH_VARIANT', 'TORCH_INDEX_URL', 'BUILD_COMMIT', 'BUILD_TIME'];

/** UTC ISO-8601 to the second, as `date -u +%Y-%m-%dT%H:%M:%SZ` prints it. */
export function isoSeconds(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The checks of a plan's inputs that need no network: run before the index preflight, and by createPlan. */
export function checkPlanInputs(inputs: Inputs): void {
  if (inputs.mode === 'platform' && inputs.platforms.length !== 1) {
    throw new InputError(
      'platforms',
      `mode 'platform' builds one platform per job; give exactly one (got ${inputs.platforms.map((p) => p.platform).join(', ')})`,
    );
  }
  if (inputs.mode === 'merge' && inputs.digests.length === 0) {
    throw new InputError('digests', "mode 'merge' needs one PLATFORM=sha256:... line per platform job");
  }
  for (const a of inputs.buildArgs) {
    if (OWN_ARGS.includes(a.name)) {
      throw new InputError(
        'build-args',
        `${a.name} is set by the action from the torch inputs; set torch-version, torchaudio-version, torchvision-version, torch-variants or torch-index-url instead`,
      );
    }
  }
  for (const p of Object.keys(inputs.expect)) {
    if (!inputs.platforms.some((q) => q.platform === p)) {
      throw new InputError('expect', `${p} is not among the platforms being built (${inputs.platforms.map((q) => q.platform).join(', ')})`);
    }
  }
}

/**
 * The plan of one image. `torch` is the index preflight's answer (src/plan/preflight.ts); without
 * it the bundled table decides, refusing impossible torch/variant combinations the same way.
 */
export function createPlan(
  inputs: Inputs,
  ctx: RunContext,
  now: Date,
  entry: { name: string; suffix: string } = { name: 'default', suffix: '' },
  torch?: TorchResolution,
): Plan {
  const image = parseImage(inputs.image);
  const created = isoSeconds(now);
  const commit = ctx.sha ? shortSha(ctx.sha, inputs.shaLength) : 'unknown';
  checkPlanInputs(inputs);

  // Refuse impossible torch/variant combinations before any build minute is spent.
  const resolved = torch ?? tableResolution(inputs);

  const tagPlan = planTags(
    ctx,
    { rules: parseTagRules(inputs.tagRules), extra: inputs.tags, shaLength: inputs.shaLength, suffix: entry.suffix, push: inputs.push },
    now,
  );
  // The user's labels (metadata-action's output) win over the OCI ones the plan derives; the
  // io.ml-image-build.* ones cannot be given (parseLabels), so the torch labels stand.
  const labels = planLabels(
    ctx,
    { version: tagPlan.version, created, extra: inputs.labels },
    { torch: inputs.torchVersion, torchaudio: inputs.torchaudioVersion, torchvision: inputs.torchvisionVersion || undefined },
  );
  // A local name even when no tag will be pushed (pull requests): the short sha always exists.
  const localTags = tagPlan.tags.length ? tagPlan.tags : [`${commit}${entry.suffix}`];

  const platforms = inputs.platforms.map((p): PlatformPlan => {
    const variant = inputs.torchVariants[p.platform];
    const derived = resolved.expect[p.platform];
    const wheels = resolved.wheels.find((w) => w.platform === p.platform);
    const buildArgs: Record<string, string> = {
      TORCH_VERSION: inputs.torchVersion,
      TORCHAUDIO_VERSION: inputs.torchaudioVersion,
      ...(inputs.torchvisionVersion ? { TORCHVISION_VERSION: inputs.torchvisionVersion } : {}),
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
      ref: `${image.name}:${platformTag(localTags, p.arch, ctx.localTagSuffix)}`,
      ...(wheels ? { wheels } : {}),
    };
  });

  return {
    name: entry.name,
    suffix: entry.suffix,
    image,
    tags: tagPlan.tags,
    push: tagPlan.push,
    tagReason: tagPlan.reason,
    labels,
    annotations: inputs.annotations,
    created,
    platforms,
    wheelSource: resolved.source,
    warnings: resolved.warnings,
    inputs,
  };
}

/** The `plan`, `matrix` and `push` outputs: what a workflow needs to fan platforms out over runners. */
export function planOutputs(plans: Plan[]): { plan: string; matrix: string; push: string } {
  const plan = plans.map((p) => ({
    name: p.name,
    image: p.image.name,
    tags: p.tags,
    push: p.push,
    reason: p.tagReason,
    labels: p.labels,
    annotations: p.annotations,
    // What build-time the jobs of a distributed run pass on, so they make these tags and labels too.
    created: p.created,
    wheels:
      p.wheelSource.kind === 'index'
        ? { source: 'index', url: p.wheelSource.base, formats: p.wheelSource.formats }
        : { source: 'table', date: p.wheelSource.date },
    platforms: p.platforms.map((q) => ({
      platform: q.platform,
      arch: q.arch,
      variant: q.variant,
      buildArgs: q.buildArgs,
      expect: q.expect,
      ...(q.wheels
        ? {
            wheels: {
              torch: q.wheels.torch.files,
              torchaudio: q.wheels.torchaudio.files,
              ...(q.wheels.torchvision ? { torchvision: q.wheels.torchvision.files } : {}),
              pythons: q.wheels.pythons,
            },
          }
        : {}),
    })),
  }));
  const matrix = { include: plans.flatMap((p) => p.platforms.map((q) => ({ image: p.name, platform: q.platform, arch: q.arch }))) };
  return { plan: JSON.stringify(plan), matrix: JSON.stringify(matrix), push: String(plans.some((p) => p.push)) };
}
