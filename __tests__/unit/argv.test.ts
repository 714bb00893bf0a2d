import { buildArgv, pushByDigestArgv, type SecretSource } from '../../src/builder/argv';
import { NO_BUILD_OPTIONS, parseCache, type BuildOptions } from '../../src/builder/options';
import { createPlan } from '../../src/plan/plan';
import { FROZEN_ISO, FROZEN_NOW, inputs, runContext, SHA7 } from './fixtures';

const IIDFILE = '/tmp/mlib/amd64.iid';
const basePlan = createPlan(inputs({ buildArgs: [{ name: 'PIP_ARGS', value: '--a=b,c' }] }), runContext(), FROZEN_NOW);
const amd = basePlan.platforms[0];
const opts = (over: Partial<{ context: string; file: string; target: string; network: string; build: BuildOptions }> = {}) => ({
  context: 'docker/worker',
  file: 'docker/worker/Dockerfile',
  target: '',
  network: '',
  build: NO_BUILD_OPTIONS,
  ...over,
});

/** The value that follows each occurrence of a flag. */
const valuesOf = (argv: string[], flag: string) => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]] : []));

describe('buildArgv', () => {
  test.each([
    { name: 'buildx loads the image into the engine', buildx: true, want: ['buildx', 'build', '--load'] },
    { name: 'plain docker build without buildx', buildx: false, want: ['build', '--platform'] },
  ])('$name', ({ buildx, want }) => {
    expect(buildArgv(basePlan, amd, opts(), buildx, IIDFILE, []).slice(0, want.length)).toEqual(want);
  });

  test('without buildx there is no buildx and no --load', () => {
    const argv = buildArgv(basePlan, amd, opts(), false, IIDFILE, []);
    expect(argv).not.toContain('buildx');
    expect(argv).not.toContain('--load');
  });

  test.each([
    { name: '--platform is the platform', flag: '--platform', want: ['linux/amd64'] },
    { name: '--file is the Dockerfile', flag: '--file', want: ['docker/worker/Dockerfile'] },
    { name: '--tag is the platform ref', flag: '--tag', want: [`ghcr.io/org/worker:${SHA7}-amd64`] },
    { name: '--iidfile is the given file', flag: '--iidfile', want: [IIDFILE] },
    {
      name: '--build-arg K=V for each arg, values kept whole',
      flag: '--build-arg',
      want: [
        'TORCH_VERSION=2.2.2',
        'TORCHAUDIO_VERSION=2.2.2',
        'TORCH_VARIANT=cu121',
        'TORCH_INDEX_URL=https://download.pytorch.org/whl/cu121',
        `BUILD_COMMIT=${SHA7}`,
        `BUILD_TIME=${FROZEN_ISO}`,
        'PIP_ARGS=--a=b,c',
      ],
    },
  ])('$name', ({ flag, want }) => {
    expect(valuesOf(buildArgv(basePlan, amd, opts(), true, IIDFILE, []), flag)).toEqual(want);
  });

  test.each([
    { name: 'torch variant label', label: 'io.ml-image-build.torch.variant=cu121' },
    { name: 'platform label', label: 'io.ml-image-build.platform=linux/amd64' },
    { name: 'plan label for created time', label: `org.opencontainers.image.created=${FROZEN_ISO}` },
    { name: 'plan label for torch version', label: 'io.ml-image-build.torch.version=2.2.2' },
  ])('--label carries the $name', ({ label }) => {
    expect(valuesOf(buildArgv(basePlan, amd, opts(), true, IIDFILE, []), '--label')).toContain(label);
  });

  test('the arm64 platform gets its own variant label and args', () => {
    const argv = buildArgv(basePlan, basePlan.platforms[1], opts(), true, IIDFILE, []);
    expect(valuesOf(argv, '--label')).toContain('io.ml-image-build.torch.variant=cpu');
    expect(valuesOf(argv, '--build-arg')).toContain('TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu');
    expect(valuesOf(argv, '--platform')).toEqual(['linux/arm64']);
  });

  test.each([
    { name: 'neither --target nor --network when unset', over: {}, want: { target: [], network: [] } },
    { name: '--target only when set', over: { target: 'runtime' }, want: { target: ['runtime'], network: [] } },
    { name: '--network only when set', over: { network: 'host' }, want: { target: [], network: ['host'] } },
    { name: 'both when both set', over: { target: 'runtime', network: 'host' }, want: { target: ['runtime'], network: ['host'] } },
  ])('$name', ({ over, want }) => {
    const argv = buildArgv(basePlan, amd, opts(over), true, IIDFILE, []);
    expect({ target: valuesOf(argv, '--target'), network: valuesOf(argv, '--network') }).toEqual(want);
  });

  test.each([
    { name: 'with buildx', buildx: true },
    { name: 'without buildx', buildx: false },
  ])('the context is the last argument $name', ({ buildx }) => {
    const argv = buildArgv(basePlan, amd, opts({ target: 'runtime', network: 'host' }), buildx, IIDFILE, []);
    expect(argv[argv.length - 1]).toBe('docker/worker');
    expect(argv.filter((a) => a === 'docker/worker')).toHaveLength(1);
  });
});

describe('build options in the argv of both builds', () => {
  const o = (over: Partial<BuildOptions>): BuildOptions => ({ ...NO_BUILD_OPTIONS, ...over });
  const SECRETS: SecretSource[] = [{ id: 'API_TOKEN', src: '/runner/tmp/mlib-secrets-x/0' }];
  const both = (build: BuildOptions, buildx: boolean, secrets: SecretSource[] = []) => ({
    verified: buildArgv(basePlan, amd, opts({ build }), buildx, IIDFILE, secrets),
    rebuild: pushByDigestArgv(basePlan, amd, opts({ build }), '/tmp/meta.json', secrets),
  });

  test.each([
    { name: 'secrets: --secret id=ID,src=FILE', build: o({}), secrets: SECRETS, flag: '--secret', want: ['id=API_TOKEN,src=/runner/tmp/mlib-secrets-x/0'] },
    { name: 'ssh default: the agent', build: o({ ssh: [{ id: 'default', paths: [] }] }), secrets: [], flag: '--ssh', want: ['default'] },
    { name: 'ssh with keys', build: o({ ssh: [{ id: 'gh', paths: ['/k/a', '/k/b'] }] }), secrets: [], flag: '--ssh', want: ['gh=/k/a,/k/b'] },
    {
      name: 'build contexts',
      build: o({ buildContexts: [{ name: 'alpine', value: 'docker-image://alpine:3.20' }] }),
      secrets: [],
      flag: '--build-context',
      want: ['alpine=docker-image://alpine:3.20'],
    },
    { name: 'shm-size', build: o({ shmSize: '2g' }), secrets: [], flag: '--shm-size', want: ['2g'] },
    {
      name: 'ulimit as NAME=SOFT:HARD',
      build: o({ ulimits: [{ name: 'nofile', soft: 1024, hard: 2048 }] }),
      secrets: [],
      flag: '--ulimit',
      want: ['nofile=1024:2048'],
    },
    {
      name: 'cache-from scoped per platform',
      build: o({ cacheFrom: parseCache('type=gha', 'cache-from') }),
      secrets: [],
      flag: '--cache-from',
      want: ['type=gha,scope=worker-amd64'],
    },
    {
      name: 'inline cache-to (it changes the image config)',
      build: o({ cacheTo: parseCache('type=inline', 'cache-to') }),
      secrets: [],
      flag: '--cache-to',
      want: ['type=inline'],
    },
  ])('buildx, in the verified build and the same in the rebuild: $name', ({ build, secrets, flag, want }) => {
    const { verified, rebuild } = both(build, true, secrets);
    expect(valuesOf(verified, flag)).toEqual(want);
    expect(valuesOf(rebuild, flag)).toEqual(want);
  });

  test.each([
    { name: '--pull', build: o({ pull: true }), pick: (a: string[]) => a.filter((x) => x === '--pull'), want: ['--pull'] },
    { name: '--no-cache', build: o({ noCache: true }), pick: (a: string[]) => a.filter((x) => x === '--no-cache'), want: ['--no-cache'] },
    {
      name: 'a cache export, scoped, ignore-error=true',
      build: o({ cacheTo: parseCache('type=gha,mode=max', 'cache-to') }),
      pick: (a: string[]) => valuesOf(a, '--cache-to'),
      want: ['type=gha,mode=max,scope=worker-amd64,ignore-error=true'],
    },
  ])('in the verified build only (the rebuild must give the verified image, the cache is written): $name', ({ build, pick, want }) => {
    const { verified, rebuild } = both(build, true);
    expect(pick(verified)).toEqual(want);
    expect(pick(rebuild)).toEqual([]);
  });

  test.each([
    {
      name: 'a registry cache-from is the scoped image ref alone',
      build: o({ cacheFrom: parseCache('type=registry,ref=ghcr.io/o/w:cache', 'cache-from') }),
      flag: '--cache-from',
      want: ['ghcr.io/o/w:cache-amd64'],
    },
    {
      name: 'inline cache-to is the BUILDKIT_INLINE_CACHE build arg',
      build: o({ cacheTo: parseCache('type=inline', 'cache-to') }),
      flag: '--build-arg',
      want: ['BUILDKIT_INLINE_CACHE=1'],
    },
  ])('docker build (engine BuildKit): $name', ({ build, flag, want }) => {
    const argv = buildArgv(basePlan, amd, opts({ build }), false, IIDFILE, []);
    expect(valuesOf(argv, flag).filter((v) => !/^(TORCH|BUILD_|PIP_)/.test(v))).toEqual(want);
    expect(argv).not.toContain('--cache-to');
  });

  test('the arm64 platform gets its own cache scope', () => {
    const argv = buildArgv(basePlan, basePlan.platforms[1], opts({ build: o({ cacheFrom: parseCache('type=gha', 'cache-from') }) }), true, IIDFILE, []);
    expect(valuesOf(argv, '--cache-from')).toEqual(['type=gha,scope=worker-arm64']);
  });

  test('an image of ml-image.yml gets its entry name in the cache key', () => {
    const plan = createPlan(inputs(), runContext(), FROZEN_NOW, { name: 'slim', suffix: '-slim' });
    const argv = buildArgv(plan, plan.platforms[0], opts({ build: o({ cacheFrom: parseCache('ghcr.io/o/w:cache', 'cache-from') }) }), true, IIDFILE, []);
    expect(valuesOf(argv, '--cache-from')).toEqual(['type=registry,ref=ghcr.io/o/w:cache-slim-amd64']);
  });

  test('no secret value is ever an argument: only the file it is read from', () => {
    const { verified, rebuild } = both(o({ secrets: [{ id: 'API_TOKEN', value: 'hunter2' }] }), true, SECRETS);
    expect([...verified, ...rebuild].join(' ')).not.toContain('hunter2');
  });
});
