import * as fs from 'fs';
import * as path from 'path';
import { parseProbe, PROBE_SCRIPT, type ProbeResult } from '../../src/verify/contract';
import { compareGpu, compatibleArch, GPU_PROBE_FLAG, gpuRunProblem, MATMUL_TOLERANCE, parseGpuProbe, smName, type GpuProbe } from '../../src/verify/gpu';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'gpu');
const fixture = (file: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8'));

/** A healthy H100 reading; each test states only what it varies. */
function gpuProbe(overrides: Partial<GpuProbe> = {}): GpuProbe {
  return {
    available: true,
    deviceCount: 1,
    deviceName: 'NVIDIA H100 80GB HBM3',
    capability: [9, 0],
    archList: ['sm_50', 'sm_60', 'sm_70', 'sm_75', 'sm_80', 'sm_86', 'sm_90'],
    tf32: false,
    matmulMaxAbsError: 4.6e-5,
    errors: {},
    warnings: [],
    ...overrides,
  };
}

const MATMUL_EXPECTED = `max abs error <= ${MATMUL_TOLERANCE} (seeded 256x256 float32 GPU vs CPU, TF32 off)`;
const NO_KERNEL =
  "RuntimeError('CUDA error: no kernel image is available for execution on the device\\nCUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect.\\nFor debugging consider passing CUDA_LAUNCH_BLOCKING=1.\\nCompile with `TORCH_USE_CUDA_DSA` to enable device-side assertions.\\n')";

describe('probe outputs in __tests__/fixtures/gpu', () => {
  test.each([
    {
      name: "Debian's CPU torch 1.13 in its image (recorded): CUDA unavailable, with torch's reason",
      file: 'debian-torch-1.13-cpu.recorded.json',
      want: [{ check: 'gpu: cuda available', expected: 'true', actual: "false: AssertionError('Torch not compiled with CUDA enabled')" }],
    },
    {
      name: 'the host python without torch (recorded): unknown, torch does not import',
      file: 'host-python-no-torch.recorded.json',
      want: [{ check: 'gpu: cuda available', expected: 'true', actual: `unknown: torch does not import: ModuleNotFoundError("No module named 'torch'")` }],
    },
    { name: 'an H100, sm_90, with torch 2.2.2+cu121 (constructed): no findings', file: 'h100-torch-2.2.2-cu121.constructed.json', want: [] },
    {
      name: 'an RTX 5090, sm_120, with torch 2.2.2+cu121 (constructed): no kernel in the wheel, and the matmul fails',
      file: 'rtx5090-sm120-torch-2.2.2-cu121.constructed.json',
      want: [
        {
          check: 'gpu: arch',
          expected: 'a kernel for sm_120 (NVIDIA GeForce RTX 5090) in the arch list: sm_12y cubin with y <= 0, or compute_xy PTX with xy <= 120',
          actual: '[sm_50, sm_60, sm_70, sm_75, sm_80, sm_86, sm_90]',
        },
        {
          check: 'gpu: matmul',
          expected: MATMUL_EXPECTED,
          actual: "RuntimeError('CUDA error: no kernel image is available for execution on the device ...",
        },
      ],
    },
  ])('$name', ({ file, want }) => {
    const probe = parseProbe(fixture(file).stdout);
    expect(compareGpu(parseGpuProbe(probe))).toEqual(want);
  });

  test('every fixture says whether it was recorded, constructed or quoted, and its file name agrees', () => {
    for (const file of fs.readdirSync(FIXTURES)) {
      const f = fixture(file);
      const kind = /\.(recorded|constructed|quoted)\.json$/.exec(file)?.[1];
      expect({ file, kind }).toEqual({ file, kind: expect.any(String) });
      if (kind === 'recorded') expect({ file, recorded: typeof f.recorded?.date }).toEqual({ file, recorded: 'string' });
      if (kind === 'constructed') {
        expect(f.provenance).toMatch(/^CONSTRUCTED, not recorded/);
        expect(Object.keys(f.constructed).length).toBeGreaterThan(0);
      }
      if (kind === 'quoted') expect(f.provenance).toMatch(/^QUOTED, not recorded here/);
    }
  });

  test('the recorded Debian probe also passes the version checks it was built for: torch 1.13, no CUDA', () => {
    const probe = parseProbe(fixture('debian-torch-1.13-cpu.recorded.json').stdout);
    expect({ torch: probe.torch, torchaudio: probe.torchaudio, cuda: probe.cuda, machine: probe.machine }).toEqual({
      torch: '1.13.0a0',
      torchaudio: '0.13.1',
      cuda: null,
      machine: 'x86_64',
    });
  });
});

describe('parseGpuProbe', () => {
  const probeWith = (gpu: unknown): ProbeResult => ({ machine: 'x86_64', torch: '2.2.2+cu121', torchaudio: '2.2.2+cu121', cuda: '12.1', gpu });
  const raw = (over: Record<string, unknown> = {}) => ({
    available: true,
    device_count: 1,
    device_name: 'NVIDIA H100 80GB HBM3',
    capability: [9, 0],
    arch_list: ['sm_90'],
    tf32: false,
    matmul_max_abs_error: 4.6e-5,
    errors: {},
    warnings: [],
    ...over,
  });

  test('maps the python names to the typed reading', () => {
    expect(parseGpuProbe(probeWith(raw()))).toEqual(gpuProbe({ archList: ['sm_90'] }));
  });

  test('keeps nulls, errors and warnings as reported', () => {
    const got = parseGpuProbe(probeWith(raw({ capability: null, matmul_max_abs_error: null, errors: { capability: 'RuntimeError()' }, warnings: ['w'] })));
    expect(got).toEqual(
      gpuProbe({ archList: ['sm_90'], capability: null, matmulMaxAbsError: null, errors: { capability: 'RuntimeError()' }, warnings: ['w'] }),
    );
  });

  test.each([
    { name: 'no gpu section (the probe ran without the flag)', gpu: undefined, shown: `was it run with ${GPU_PROBE_FLAG}?` },
    { name: 'a gpu section that is a list', gpu: [], shown: 'printed no GPU section' },
    { name: 'capability with one number', gpu: raw({ capability: [9] }), shown: 'malformed capability: [9]' },
    { name: 'a negative device count', gpu: raw({ device_count: -1 }), shown: 'malformed device_count: -1' },
    { name: 'available as a string', gpu: raw({ available: 'yes' }), shown: 'malformed available: "yes"' },
    { name: 'an arch list with a number', gpu: raw({ arch_list: ['sm_90', 90] }), shown: 'malformed arch_list' },
    { name: 'errors as a list', gpu: raw({ errors: ['x'] }), shown: 'malformed errors' },
    { name: 'a warning that is not a string', gpu: raw({ warnings: [1] }), shown: 'malformed warnings' },
  ])('throws on $name', ({ gpu, shown }) => {
    expect(() => parseGpuProbe(probeWith(gpu))).toThrow(shown);
  });
});

describe('compatibleArch: which arch-list entry runs on a device', () => {
  const CU12X = ['sm_50', 'sm_60', 'sm_70', 'sm_75', 'sm_80', 'sm_86', 'sm_90'];
  test.each([
    { name: 'H100 9.0 on the cu12x list: its own cubin', cap: [9, 0], list: CU12X, want: 'sm_90' },
    { name: 'L4 / RTX 4090 8.9: sm_86 runs on a later minor of the same major', cap: [8, 9], list: CU12X, want: 'sm_86' },
    { name: 'A100 8.0 with only sm_86 and sm_90: no cubin of a later minor runs on an earlier one', cap: [8, 0], list: ['sm_86', 'sm_90'], want: undefined },
    { name: 'RTX 5090 12.0 on the cu12x list: no cubin of major 12, no PTX', cap: [12, 0], list: CU12X, want: undefined },
    { name: 'K80 3.7 on the cu12x list: an old GPU the wheel dropped', cap: [3, 7], list: CU12X, want: undefined },
    { name: 'RTX 5090 12.0 with compute_90 PTX: the driver JIT-compiles it', cap: [12, 0], list: [...CU12X, 'compute_90'], want: 'compute_90' },
    { name: 'a cubin is preferred to PTX that would also run', cap: [9, 0], list: ['compute_80', 'sm_90'], want: 'sm_90' },
    { name: 'the highest PTX not above the device', cap: [9, 0], list: ['compute_70', 'compute_80', 'compute_100'], want: 'compute_80' },
    { name: 'PTX newer than the device does not run', cap: [8, 6], list: ['compute_89'], want: undefined },
    { name: 'sm_90a runs on exactly 9.0', cap: [9, 0], list: ['sm_90a'], want: 'sm_90a' },
    { name: 'compute_90a PTX does not carry forward to 10.0', cap: [10, 0], list: ['compute_90a'], want: undefined },
    { name: 'sm_100a does not run on 10.3', cap: [10, 3], list: ['sm_100a'], want: undefined },
    { name: 'sm_100f runs on 10.3, same family', cap: [10, 3], list: ['sm_100f'], want: 'sm_100f' },
    { name: 'compute_100f PTX does not cross to major 12', cap: [12, 0], list: ['compute_100f'], want: undefined },
    { name: 'two-digit majors read right: sm_100 is 10.0, runs on 10.0 and not on 12.0', cap: [10, 0], list: ['sm_100', 'sm_120'], want: 'sm_100' },
    { name: 'sm_120 runs on 12.1 (GB10)', cap: [12, 1], list: ['sm_90', 'sm_120'], want: 'sm_120' },
    { name: 'an empty list (a CPU build) has nothing', cap: [9, 0], list: [], want: undefined },
    { name: 'ROCm gfx names never match', cap: [9, 0], list: ['gfx90a', 'gfx942'], want: undefined },
  ])('$name', ({ cap, list, want }) => {
    expect(compatibleArch(cap as [number, number], list)).toBe(want);
  });

  test.each([
    { cap: [9, 0] as [number, number], want: 'sm_90' },
    { cap: [12, 0] as [number, number], want: 'sm_120' },
    { cap: [8, 6] as [number, number], want: 'sm_86' },
  ])('smName($cap) is $want', ({ cap, want }) => expect(smName(cap)).toBe(want));
});

describe('compareGpu', () => {
  test.each([
    { name: 'a healthy H100 has no findings', gpu: gpuProbe(), want: [] },
    { name: 'an error exactly at the tolerance passes', gpu: gpuProbe({ matmulMaxAbsError: MATMUL_TOLERANCE }), want: [] },
    { name: 'sm_89 covered by sm_86 passes', gpu: gpuProbe({ capability: [8, 9], deviceName: 'NVIDIA L4' }), want: [] },
    {
      name: 'CUDA unavailable: the reason torch.cuda.init() gave, and no other check',
      gpu: gpuProbe({
        available: false,
        capability: null,
        archList: [],
        matmulMaxAbsError: null,
        errors: { available: "AssertionError('Torch not compiled with CUDA enabled')" },
      }),
      want: [{ check: 'gpu: cuda available', expected: 'true', actual: "false: AssertionError('Torch not compiled with CUDA enabled')" }],
    },
    {
      name: "CUDA unavailable with the reason only in torch's warning (driver too old)",
      gpu: gpuProbe({
        available: false,
        capability: null,
        matmulMaxAbsError: null,
        warnings: ['CUDA initialization: The NVIDIA driver on your system is too old (found version 11040).'],
      }),
      want: [
        {
          check: 'gpu: cuda available',
          expected: 'true',
          actual: 'false: CUDA initialization: The NVIDIA driver on your system is too old (found version 11040).',
        },
      ],
    },
    {
      name: 'availability unknown and no reason given',
      gpu: gpuProbe({ available: null }),
      want: [{ check: 'gpu: cuda available', expected: 'true', actual: 'unknown' }],
    },
    {
      name: 'device 0 unreadable',
      gpu: gpuProbe({ capability: null, deviceName: null, errors: { capability: 'RuntimeError("CUDA error: out of memory")' } }),
      want: [{ check: 'gpu: device 0', expected: 'a name and compute capability', actual: 'RuntimeError("CUDA error: out of memory")' }],
    },
    {
      name: 'no arch list',
      gpu: gpuProbe({ archList: null, errors: { arch_list: 'AttributeError()' } }),
      want: [{ check: 'gpu: arch', expected: 'torch.cuda.get_arch_list() for sm_90', actual: 'AttributeError()' }],
    },
    {
      name: 'an A100 (8.0) on a wheel built for sm_86 and sm_90 only',
      gpu: gpuProbe({ capability: [8, 0], deviceName: 'NVIDIA A100-SXM4-80GB', archList: ['sm_86', 'sm_90'] }),
      want: [
        {
          check: 'gpu: arch',
          expected: 'a kernel for sm_80 (NVIDIA A100-SXM4-80GB) in the arch list: sm_8y cubin with y <= 0, or compute_xy PTX with xy <= 80',
          actual: '[sm_86, sm_90]',
        },
      ],
    },
    {
      name: 'an empty arch list with CUDA available names device 0 when its name is missing',
      gpu: gpuProbe({ archList: [], deviceName: null }),
      want: [
        {
          check: 'gpu: arch',
          expected: 'a kernel for sm_90 (device 0) in the arch list: sm_9y cubin with y <= 0, or compute_xy PTX with xy <= 90',
          actual: '[]',
        },
      ],
    },
    {
      name: 'a TF32-sized error (2.1e-2) fails',
      gpu: gpuProbe({ matmulMaxAbsError: 0.021 }),
      want: [{ check: 'gpu: matmul', expected: MATMUL_EXPECTED, actual: '0.021' }],
    },
    {
      name: 'an error with TF32 read back as on says so',
      gpu: gpuProbe({ matmulMaxAbsError: 0.057, tf32: true }),
      want: [{ check: 'gpu: matmul', expected: MATMUL_EXPECTED, actual: '0.057 with TF32 on' }],
    },
    {
      name: "a kernel error is shown by its first line, torch's fixed hints left to the report",
      gpu: gpuProbe({ matmulMaxAbsError: null, errors: { matmul_max_abs_error: NO_KERNEL } }),
      want: [
        { check: 'gpu: matmul', expected: MATMUL_EXPECTED, actual: "RuntimeError('CUDA error: no kernel image is available for execution on the device ..." },
      ],
    },
    {
      name: 'a very long error is cut to 300 characters',
      gpu: gpuProbe({ matmulMaxAbsError: null, errors: { matmul_max_abs_error: `RuntimeError('${'x'.repeat(1000)}')` } }),
      want: [{ check: 'gpu: matmul', expected: MATMUL_EXPECTED, actual: `RuntimeError('${'x'.repeat(283)}...` }],
    },
    {
      name: 'no matmul result and no error',
      gpu: gpuProbe({ matmulMaxAbsError: null }),
      want: [{ check: 'gpu: matmul', expected: MATMUL_EXPECTED, actual: 'no result' }],
    },
  ])('$name', ({ gpu, want }) => {
    expect(compareGpu(gpu)).toEqual(want);
  });
});

describe('gpuRunProblem', () => {
  const TOOLKIT = 'Install the NVIDIA Container Toolkit';
  const DRIVER = 'Run this job on a runner with an NVIDIA GPU and its driver loaded';

  test.each(
    (fixture('docker-run-stderr.recorded.json').cases as { client: string; argv: string; stderr: string }[]).map((c) => ({
      name: `${c.client}: ${c.argv.includes('--gpus') ? '--gpus all' : '--runtime nvidia'} on this GPU-less engine (recorded)`,
      stderr: c.stderr,
    })),
  )('$name', ({ stderr }) => {
    const got = gpuRunProblem(stderr);
    expect(got).toMatch(/^gpu: true, but this runner's Docker has no (NVIDIA runtime|runtime named nvidia)/);
    expect(got).toContain(TOOLKIT);
    expect(got).toContain('set gpu: false');
  });

  test('the whole message for the commonest case', () => {
    expect(gpuRunProblem('docker: Error response from daemon: could not select device driver "" with capabilities: [[gpu]].\n')).toBe(
      'gpu: true, but this runner\'s Docker has no NVIDIA runtime to give containers a GPU. Docker said: "could not select device driver "" with capabilities: [[gpu]]". ' +
        'Install the NVIDIA Container Toolkit on the runner and register it with Docker (`sudo nvidia-ctk runtime configure --runtime=docker`, then restart dockerd), run this job on a GPU runner, or set gpu: false.',
    );
  });

  const quoted: Record<string, { missing: string; quotes: string; fix: string }> = {
    'https://github.com/infiniflow/ragflow/issues/9573': {
      missing: 'has no NVIDIA runtime',
      quotes: 'could not select device driver "nvidia" with capabilities: [[gpu]]',
      fix: TOOLKIT,
    },
    'https://github.com/NVIDIA/nvidia-docker/issues/1795': {
      missing: 'has no runtime named nvidia',
      quotes: 'unknown or invalid runtime name: nvidia',
      fix: TOOLKIT,
    },
    'https://github.com/NVIDIA/nvidia-docker/issues/1629': {
      missing: 'NVIDIA kernel driver is not loaded',
      quotes: 'nvidia-container-cli: initialization error: nvml error: driver not loaded',
      fix: DRIVER,
    },
    'https://github.com/docker/for-win/issues/13835': {
      missing: 'driver libraries (libnvidia-ml)',
      quotes: 'libnvidia-ml.so.1: cannot open shared object file',
      fix: DRIVER,
    },
    'https://github.com/NVIDIA/nvidia-docker/issues/1235': {
      missing: 'no NVIDIA GPU that CUDA can see',
      quotes: 'no cuda-capable device is detected',
      fix: DRIVER,
    },
    'https://github.com/SyneRBI/PETRIC2/issues/27': {
      missing: 'driver is older than the CUDA version the image requires',
      quotes: 'unsatisfied condition: cuda>=12.8',
      fix: 'Update the driver',
    },
    'https://github.com/NVIDIA/nvidia-container-toolkit/issues/434': {
      missing: 'no CDI specification',
      quotes: 'unresolvable CDI devices nvidia.com/gpu=all',
      fix: 'nvidia-ctk cdi generate',
    },
    'https://github.com/NVIDIA/nvidia-docker/issues/1675': {
      missing: 'hook could not set up the GPU',
      quotes: 'nvidia-container-cli: initialization error: driver rpc error: failed to process request',
      fix: DRIVER,
    },
  };
  test.each(
    (fixture('docker-run-stderr.quoted.json').cases as { source: string; situation: string; stderr: string }[]).map((c) => ({ ...c, want: quoted[c.source] })),
  )('$situation ($source, quoted)', ({ stderr, want }) => {
    const got = gpuRunProblem(stderr);
    expect(got).toContain(want.missing);
    expect(got).toContain(`Docker said: "${want.quotes}"`);
    expect(got).toContain(want.fix);
    expect(got).toContain('set gpu: false');
  });

  test.each([
    {
      name: 'a port already allocated',
      stderr:
        'docker: Error response from daemon: driver failed programming external connectivity on endpoint mlib-amd64-1a2b3c4d: Bind for 127.0.0.1:8477 failed: port is already allocated.',
    },
    {
      name: 'an image that is not there',
      stderr: "Unable to find image 'ghcr.io/org/worker:latest' locally\ndocker: Error response from daemon: manifest unknown.",
    },
    { name: 'an exec format error under a missing emulator', stderr: 'exec /usr/bin/python3: exec format error' },
    { name: 'empty stderr', stderr: '' },
  ])('not a GPU problem: $name', ({ stderr }) => {
    expect(gpuRunProblem(stderr)).toBeUndefined();
  });
});

describe('the standalone probe', () => {
  test('scripts/gpu-probe.py is PROBE_SCRIPT under a comment header (regenerate: node scripts/print-probe.mjs > scripts/gpu-probe.py)', () => {
    const text = fs.readFileSync(path.join(__dirname, '..', '..', 'scripts', 'gpu-probe.py'), 'utf8');
    const body = text.replace(/^(#[^\n]*\n)+/, '');
    expect(body).toBe(`${PROBE_SCRIPT}\n`);
  });

  test('the script switches its GPU section on the flag, after its argv', () => {
    expect(PROBE_SCRIPT).toContain(`if "${GPU_PROBE_FLAG}" in sys.argv[1:]:`);
  });
});
