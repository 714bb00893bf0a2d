import { buildArgv } from '../../src/build/argv';
import { createPlan } from '../../src/plan/plan';
import { FROZEN_ISO, FROZEN_NOW, inputs, runContext, SHA7 } from './fixtures';

const IIDFILE = '/tmp/mlib/amd64.iid';
const basePlan = createPlan(inputs({ buildArgs: [{ name: 'PIP_ARGS', value: '--a=b,c' }] }), runContext(), FROZEN_NOW);
const amd = basePlan.platforms[0];
const opts = (over: Partial<{ context: string; file: string; target: string; network: string }> = {}) => ({
  context: 'docker/worker',
  file: 'docker/worker/Dockerfile',
  target: '',
  network: '',
  ...over,
});

/** The value that follows each occurrence of a flag. */
const valuesOf = (argv: string[], flag: string) => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]] : []));

describe('buildArgv', () => {
  test.each([
    { name: 'buildx loads the image into the engine', buildx: true, want: ['buildx', 'build', '--load'] },
    { name: 'plain docker build without buildx', buildx: false, want: ['build', '--platform'] },
  ])('$name', ({ buildx, want }) => {
    expect(buildArgv(basePlan, amd, opts(), buildx, IIDFILE).slice(0, want.length)).toEqual(want);
  });

  test('without buildx there is no buildx and no --load', () => {
    const argv = buildArgv(basePlan, amd, opts(), false, IIDFILE);
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
    expect(valuesOf(buildArgv(basePlan, amd, opts(), true, IIDFILE), flag)).toEqual(want);
  });

  test.each([
    { name: 'torch variant label', label: 'io.ml-image-build.torch.variant=cu121' },
    { name: 'platform label', label: 'io.ml-image-build.platform=linux/amd64' },
    { name: 'plan label for created time', label: `org.opencontainers.image.created=${FROZEN_ISO}` },
    { name: 'plan label for torch version', label: 'io.ml-image-build.torch.version=2.2.2' },
  ])('--label carries the $name', ({ label }) => {
    expect(valuesOf(buildArgv(basePlan, amd, opts(), true, IIDFILE), '--label')).toContain(label);
  });

  test('the arm64 platform gets its own variant label and args', () => {
    const argv = buildArgv(basePlan, basePlan.platforms[1], opts(), true, IIDFILE);
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
    const argv = buildArgv(basePlan, amd, opts(over), true, IIDFILE);
    expect({ target: valuesOf(argv, '--target'), network: valuesOf(argv, '--network') }).toEqual(want);
  });

  test.each([
    { name: 'with buildx', buildx: true },
    { name: 'without buildx', buildx: false },
  ])('the context is the last argument $name', ({ buildx }) => {
    const argv = buildArgv(basePlan, amd, opts({ target: 'runtime', network: 'host' }), buildx, IIDFILE);
    expect(argv[argv.length - 1]).toBe('docker/worker');
    expect(argv.filter((a) => a === 'docker/worker')).toHaveLength(1);
  });
});
