import { InputError } from '../../src/errors';
import type { Inputs } from '../../src/inputs';
import { createPlan, isoSeconds, planOutputs, type Plan } from '../../src/plan/plan';
import { parseBuildTime } from '../../src/inputs';
import type { Expectation } from '../../src/plan/torch';
import { AMD64, ARM64, FROZEN_ISO, FROZEN_NOW, inputs, runContext, SHA, SHA7 } from './fixtures';

const planOf = (over: Parameters<typeof inputs>[0] = {}, ctx = runContext()): Plan => createPlan(inputs(over), ctx, FROZEN_NOW);
const platformOf = (plan: Plan, platform: string) => {
  const p = plan.platforms.find((q) => q.platform === platform);
  if (!p) throw new Error(`${platform} not in plan`);
  return p;
};

describe('createPlan build args the action sets', () => {
  const plan = planOf();
  test.each([
    { name: 'amd64 TORCH_VERSION', platform: 'linux/amd64', key: 'TORCH_VERSION', want: '2.2.2' },
    { name: 'amd64 TORCHAUDIO_VERSION', platform: 'linux/amd64', key: 'TORCHAUDIO_VERSION', want: '2.2.2' },
    { name: 'amd64 TORCH_VARIANT', platform: 'linux/amd64', key: 'TORCH_VARIANT', want: 'cu121' },
    {
      name: 'amd64 TORCH_INDEX_URL points at the cu121 index',
      platform: 'linux/amd64',
      key: 'TORCH_INDEX_URL',
      want: 'https://download.pytorch.org/whl/cu121',
    },
    { name: 'amd64 BUILD_COMMIT is the 7-character sha', platform: 'linux/amd64', key: 'BUILD_COMMIT', want: SHA7 },
    { name: 'amd64 BUILD_TIME is the frozen time to the second', platform: 'linux/amd64', key: 'BUILD_TIME', want: FROZEN_ISO },
    { name: 'arm64 TORCH_VARIANT', platform: 'linux/arm64', key: 'TORCH_VARIANT', want: 'cpu' },
    { name: 'arm64 TORCH_INDEX_URL points at the cpu index', platform: 'linux/arm64', key: 'TORCH_INDEX_URL', want: 'https://download.pytorch.org/whl/cpu' },
    { name: 'arm64 BUILD_COMMIT is the 7-character sha', platform: 'linux/arm64', key: 'BUILD_COMMIT', want: SHA7 },
  ])('$name', ({ platform, key, want }) => {
    expect(platformOf(plan, platform).buildArgs[key]).toBe(want);
  });

  test('only the six own args are set when the user gives none', () => {
    expect(Object.keys(platformOf(plan, 'linux/amd64').buildArgs).sort()).toEqual([
      'BUILD_COMMIT',
      'BUILD_TIME',
      'TORCHAUDIO_VERSION',
      'TORCH_INDEX_URL',
      'TORCH_VARIANT',
      'TORCH_VERSION',
    ]);
  });

  test('BUILD_COMMIT is unknown without a sha (explicit tags)', () => {
    const p = platformOf(planOf({ tags: ['v1'] }, runContext({ sha: '' })), 'linux/amd64');
    expect(p.buildArgs.BUILD_COMMIT).toBe('unknown');
  });

  test('a custom torch-index-url is used with the variant appended', () => {
    const p = platformOf(planOf({ torchIndexUrl: 'https://mirror.example/torch/' }), 'linux/amd64');
    expect(p.buildArgs.TORCH_INDEX_URL).toBe('https://mirror.example/torch/cu121');
  });
});

describe('createPlan user build args', () => {
  test.each([
    {
      name: 'a shared arg reaches every platform',
      buildArgs: [{ name: 'BASE_IMAGE', value: 'python:3.11' }],
      want: { 'linux/amd64': 'python:3.11', 'linux/arm64': 'python:3.11' },
    },
    {
      name: 'a per-platform arg overrides the shared one only on its platform',
      buildArgs: [
        { platform: 'linux/arm64', name: 'BASE_IMAGE', value: 'arm-base' },
        { name: 'BASE_IMAGE', value: 'shared-base' },
      ],
      want: { 'linux/amd64': 'shared-base', 'linux/arm64': 'arm-base' },
    },
    {
      name: 'a per-platform arg alone is absent on the other platform',
      buildArgs: [{ platform: 'linux/amd64', name: 'BASE_IMAGE', value: 'nvidia/cuda:12.1.1-runtime-ubuntu22.04' }],
      want: { 'linux/amd64': 'nvidia/cuda:12.1.1-runtime-ubuntu22.04', 'linux/arm64': undefined },
    },
  ])('$name', ({ buildArgs, want }) => {
    const plan = planOf({ buildArgs });
    expect({
      'linux/amd64': platformOf(plan, 'linux/amd64').buildArgs.BASE_IMAGE,
      'linux/arm64': platformOf(plan, 'linux/arm64').buildArgs.BASE_IMAGE,
    }).toEqual(want);
  });

  test.each([
    { name: 'TORCH_VERSION shared', arg: { name: 'TORCH_VERSION', value: '2.1.0' } },
    { name: 'TORCH_INDEX_URL per platform', arg: { platform: 'linux/arm64', name: 'TORCH_INDEX_URL', value: 'https://x' } },
    { name: 'BUILD_TIME shared', arg: { name: 'BUILD_TIME', value: 'now' } },
  ])('refuses a user build-arg named like an own arg: $name', ({ arg }) => {
    const plan = () => planOf({ buildArgs: [arg] });
    expect(plan).toThrow(InputError);
    expect(plan).toThrow("Input 'build-args'");
    expect(plan).toThrow(arg.name);
  });
});

describe('createPlan expectations', () => {
  test.each<{ name: string; overrides: Inputs['expect']; want: Record<string, Expectation> }>([
    {
      name: 'derived expectations without overrides',
      overrides: {},
      want: {
        'linux/amd64': { torch: '2.2.2+cu121', torchaudio: '2.2.2+cu121', cuda: '12.1' },
        'linux/arm64': { torch: '2.2.2', torchaudio: '2.2.2', cuda: null },
      },
    },
    {
      name: 'an override replaces only the given keys on its platform',
      overrides: { 'linux/arm64': { torch: '1.13.0a0', cuda: null } },
      want: {
        'linux/amd64': { torch: '2.2.2+cu121', torchaudio: '2.2.2+cu121', cuda: '12.1' },
        'linux/arm64': { torch: '1.13.0a0', torchaudio: '2.2.2', cuda: null },
      },
    },
    {
      name: 'cuda none overrides a CUDA expectation',
      overrides: { 'linux/amd64': { cuda: null } },
      want: {
        'linux/amd64': { torch: '2.2.2+cu121', torchaudio: '2.2.2+cu121', cuda: null },
        'linux/arm64': { torch: '2.2.2', torchaudio: '2.2.2', cuda: null },
      },
    },
  ])('$name', ({ overrides, want }) => {
    const plan = planOf({ expect: overrides });
    expect(Object.fromEntries(plan.platforms.map((p) => [p.platform, p.expect]))).toEqual(want);
  });

  test('an expect for a platform not being built is refused naming expect and the platform', () => {
    const plan = () => planOf({ platforms: [AMD64], torchVariants: { 'linux/amd64': 'cu121' }, expect: { 'linux/arm64': { torch: '2.2.2' } } });
    expect(plan).toThrow(InputError);
    expect(plan).toThrow("Input 'expect'");
    expect(plan).toThrow('linux/arm64');
  });

  test('a CUDA variant on arm64 is refused naming torch-variants', () => {
    const plan = () => planOf({ torchVariants: { 'linux/amd64': 'cu121', 'linux/arm64': 'cu121' } });
    expect(plan).toThrow(InputError);
    expect(plan).toThrow("Input 'torch-variants'");
  });
});

describe('createPlan refs, tags, labels and image', () => {
  test.each([
    {
      name: 'feature branch: ref is IMAGE:<sha7>-<arch>',
      ctx: runContext(),
      tags: [],
      want: [`ghcr.io/org/worker:${SHA7}-amd64`, `ghcr.io/org/worker:${SHA7}-arm64`],
    },
    {
      name: 'default branch: ref still uses the sha, not latest',
      ctx: runContext({ ref: 'refs/heads/main' }),
      tags: [],
      want: [`ghcr.io/org/worker:${SHA7}-amd64`, `ghcr.io/org/worker:${SHA7}-arm64`],
    },
    {
      name: 'extra tags are added to the rules; the local ref still uses the commit tag',
      ctx: runContext(),
      tags: ['v1', 'stable'],
      want: ['ghcr.io/org/worker:0123456-amd64', 'ghcr.io/org/worker:0123456-arm64'],
    },
  ])('$name', ({ ctx, tags, want }) => {
    expect(planOf({ tags }, ctx).platforms.map((p) => p.ref)).toEqual(want);
  });

  test('the image name is lowercased in the refs', () => {
    expect(planOf({ image: 'ghcr.io/MyOrg/Worker' }).platforms[0].ref).toBe(`ghcr.io/myorg/worker:${SHA7}-amd64`);
  });

  test('the plan keeps platform order and platform facts', () => {
    const plan = planOf({ platforms: [ARM64, AMD64] });
    expect(plan.platforms.map((p) => [p.platform, p.arch, p.machine, p.binfmt, p.variant])).toEqual([
      ['linux/arm64', 'arm64', 'aarch64', 'qemu-aarch64', 'cpu'],
      ['linux/amd64', 'amd64', 'x86_64', 'qemu-x86_64', 'cu121'],
    ]);
  });

  test('tags are the planned tags', () => {
    expect(planOf({}, runContext({ ref: 'refs/heads/main' })).tags).toEqual([SHA7, 'latest']);
  });

  test('labels record created time, revision, source and torch versions', () => {
    expect(planOf().labels).toEqual({
      'org.opencontainers.image.created': FROZEN_ISO,
      'org.opencontainers.image.revision': SHA,
      'org.opencontainers.image.source': 'https://github.com/org/worker',
      'org.opencontainers.image.title': 'worker',
      'org.opencontainers.image.url': 'https://github.com/org/worker',
      'org.opencontainers.image.version': 'feature',
      'io.ml-image-build.torch.version': '2.2.2',
      'io.ml-image-build.torchaudio.version': '2.2.2',
    });
  });

  test('labels leave out revision and source when unknown', () => {
    const labels = planOf({ tags: ['v1'] }, runContext({ sha: '', repository: '' })).labels;
    expect(Object.keys(labels)).not.toContain('org.opencontainers.image.revision');
    expect(Object.keys(labels)).not.toContain('org.opencontainers.image.source');
  });

  test('a bad image is refused before anything else', () => {
    expect(() => planOf({ image: 'ghcr.io/o/w:latest' })).toThrow("Input 'image'");
  });
});

describe('isoSeconds', () => {
  test.each([
    { name: 'drops milliseconds', now: new Date('2026-01-02T03:04:05.678Z'), want: '2026-01-02T03:04:05Z' },
    { name: 'keeps zero seconds', now: new Date('2025-12-31T23:59:00.000Z'), want: '2025-12-31T23:59:00Z' },
  ])('$name', ({ now, want }) => {
    expect(isoSeconds(now)).toBe(want);
  });
});

describe('a distributed run that crosses midnight UTC', () => {
  // The plan job runs before midnight, the merge after it. The merge is given the plan's `created`
  // as build-time (what build.yml does); with the clock instead it would make other tags.
  const schedule = runContext({ eventName: 'schedule', ref: 'refs/heads/main', defaultBranch: 'main' });
  const planned = createPlan(inputs(), schedule, new Date('2026-01-01T23:59:58.400Z'));
  const handedOn = JSON.parse(planOutputs([planned]).plan)[0].created as string;

  test("the plan output carries the plan's time", () => {
    expect(handedOn).toBe('2026-01-01T23:59:58Z');
    expect(planned.tags).toEqual(['nightly-20260101', 'nightly']);
  });

  test.each([
    { name: "given the plan's time", now: parseBuildTime(handedOn)!, same: true },
    { name: 'on its own clock, after midnight', now: new Date('2026-01-02T00:03:00Z'), same: false },
  ])('a later job $name: same tags, created label and BUILD_TIME: $same', ({ now, same }) => {
    const later = createPlan(inputs(), schedule, now);
    const view = (p: Plan) => ({
      tags: p.tags,
      created: p.labels['org.opencontainers.image.created'],
      buildTime: p.platforms.map((q) => q.buildArgs.BUILD_TIME),
    });
    if (same) expect(view(later)).toEqual(view(planned));
    else expect(view(later)).not.toEqual(view(planned));
  });
});
