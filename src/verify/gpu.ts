import type { Finding, ProbeResult } from './contract';

/**
 * The GPU lane of verification: a section of the one in-image probe (PROBE_SCRIPT runs it when
 * GPU_PROBE_FLAG is in its argv), the reading of what it printed, and the reading of docker's
 * answer when the runner cannot give a container a GPU at all.
 *
 * Pure: nothing here runs docker. Only type imports from ./contract, which imports the python
 * section from here (a value import back would be a cycle).
 */

/** Passed after `-c PROBE_SCRIPT`: python sees it in sys.argv[1:] and adds a "gpu" object to the probe line. */
export const GPU_PROBE_FLAG = '--gpu';

/**
 * Largest |GPU - CPU| accepted for the probe's seeded 256x256 float32 matmul, with TF32 switched off.
 *
 * For these inputs (results up to |66|), measured with Debian's CPU torch: float32 against float64 differs
 * by 4.3e-5, and float32 summed in another order (blocks of 32, as GPU kernels split K) by 4.6e-5. The same
 * product with inputs rounded to TF32's 10-bit mantissa differs from float32 by 2.1e-2 (round to nearest)
 * to 5.7e-2 (truncation); bf16 by 0.17. 1e-3 sits 20x above the float32 spread and 20x below TF32, so the
 * check passes a correct float32 GEMM and fails wrong numbers, including TF32 left on where it was
 * switched off. (NVIDIA_TF32_OVERRIDE can only force TF32 off, never on.)
 */
export const MATMUL_TOLERANCE = 1e-3;

/**
 * Python, module level, using the sys and warnings that PROBE_SCRIPT imports: defines gpu_probe(), which PROBE_SCRIPT
 * calls when the flag is given. Every step's exception is kept as repr() under errors[<field>], and every
 * warning raised meanwhile (torch reports an unsupported GPU or a failed CUDA init as a UserWarning) is kept
 * too, so the probe never crashes and a finding can say why.
 *
 * The matmul difference is taken on the GPU: a @ b goes to cuBLAS, which carries its own kernels, while
 * the subtraction, abs and max are torch's own kernels, the ones that fail with "no kernel image is
 * available" when the wheel was not built for this GPU.
 */
export const GPU_PROBE_SECTION = [
  'def gpu_matmul(torch, g):',
  '    torch.backends.cuda.matmul.allow_tf32 = False',
  '    g["tf32"] = bool(torch.backends.cuda.matmul.allow_tf32)',
  '    gen = torch.Generator().manual_seed(0)',
  '    a = torch.randn(256, 256, generator=gen, dtype=torch.float32)',
  '    b = torch.randn(256, 256, generator=gen, dtype=torch.float32)',
  '    want = (a @ b).to("cuda:0")',
  '    got = a.to("cuda:0") @ b.to("cuda:0")',
  '    err = float((got - want).abs().max().item())',
  '    if err != err or err in (float("inf"), float("-inf")):',
  '        raise ArithmeticError("max abs error is " + repr(err))',
  '    return err',
  'def gpu_probe():',
  '    g = {"available": None, "device_count": None, "device_name": None, "capability": None, "arch_list": None,',
  '         "tf32": None, "matmul_max_abs_error": None, "errors": {}, "warnings": []}',
  '    def step(key, fn):',
  '        try:',
  '            g[key] = fn()',
  '        except Exception as e:',
  '            g["errors"][key] = repr(e)[:2000]',
  '    with warnings.catch_warnings(record=True) as caught:',
  '        warnings.simplefilter("always")',
  '        try:',
  '            import torch',
  '        except Exception as e:',
  '            torch = None',
  '            g["errors"]["available"] = "torch does not import: " + repr(e)[:2000]',
  '        if torch is not None:',
  '            step("available", lambda: bool(torch.cuda.is_available()))',
  '            step("device_count", lambda: int(torch.cuda.device_count()))',
  '            step("arch_list", lambda: [str(a) for a in torch.cuda.get_arch_list()])',
  '            if g["available"]:',
  '                step("device_name", lambda: str(torch.cuda.get_device_name(0)))',
  '                step("capability", lambda: [int(v) for v in torch.cuda.get_device_capability(0)])',
  '                step("matmul_max_abs_error", lambda: gpu_matmul(torch, g))',
  '            elif "available" not in g["errors"]:',
  // is_available() only answers False; init() raises with the reason (CPU build, no driver, driver too old).
  '                try:',
  '                    torch.cuda.init()',
  '                except Exception as e:',
  '                    g["errors"]["available"] = repr(e)[:2000]',
  '    g["warnings"] = [str(w.message).strip()[:2000] for w in caught][:10]',
  '    return g',
];

/** What the GPU section reported; null where the value could not be read (errors says why). */
export interface GpuProbe {
  available: boolean | null;
  deviceCount: number | null;
  deviceName: string | null;
  /** Device 0's compute capability (major, minor). */
  capability: [number, number] | null;
  /** torch.cuda.get_arch_list(): sm_XY cubins and compute_XY PTX the wheel carries; [] for a CPU build. */
  archList: string[] | null;
  /** allow_tf32 as read back after the probe switched it off. */
  tf32: boolean | null;
  matmulMaxAbsError: number | null;
  /** Python repr() of the exception, keyed by the field it left null (available: why CUDA is not available). */
  errors: Record<string, string>;
  warnings: string[];
}

type Check = (v: unknown) => boolean;
const isBool: Check = (v) => typeof v === 'boolean';
const isStr: Check = (v) => typeof v === 'string';
const isCount: Check = (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isNum: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const isStrList: Check = (v) => Array.isArray(v) && v.every(isStr);
const isCapability: Check = (v) => Array.isArray(v) && v.length === 2 && v.every(isCount);
const FIELDS: Record<string, [keyof GpuProbe, Check]> = {
  available: ['available', isBool],
  device_count: ['deviceCount', isCount],
  device_name: ['deviceName', isStr],
  capability: ['capability', isCapability],
  arch_list: ['archList', isStrList],
  tf32: ['tf32', isBool],
  matmul_max_abs_error: ['matmulMaxAbsError', isNum],
};

/**
 * The "gpu" object of a probe run with GPU_PROBE_FLAG (see parseProbe). Throws, naming the field, when
 * the section is missing or malformed: that is a probe that did not run as built, not a finding.
 */
export function parseGpuProbe(probe: ProbeResult): GpuProbe {
  const g = probe.gpu;
  if (typeof g !== 'object' || g === null || Array.isArray(g)) {
    throw new Error(`the probe printed no GPU section (was it run with ${GPU_PROBE_FLAG}?); it printed: ${JSON.stringify(probe).slice(0, 500)}`);
  }
  const raw = g as Record<string, unknown>;
  const bad = (field: string) => new Error(`the probe's GPU section has a malformed ${field}: ${JSON.stringify(raw[field])}`);
  const out: GpuProbe = {
    available: null,
    deviceCount: null,
    deviceName: null,
    capability: null,
    archList: null,
    tf32: null,
    matmulMaxAbsError: null,
    errors: {},
    warnings: [],
  };
  for (const [field, [key, ok]] of Object.entries(FIELDS)) {
    const v = raw[field];
    if (v === null || v === undefined) continue;
    if (!ok(v)) throw bad(field);
    (out as unknown as Record<string, unknown>)[key] = v;
  }
  const errors = raw.errors ?? {};
  if (typeof errors !== 'object' || errors === null || Array.isArray(errors) || !Object.values(errors).every(isStr)) throw bad('errors');
  out.errors = errors as Record<string, string>;
  const warnings = raw.warnings ?? [];
  if (!isStrList(warnings)) throw bad('warnings');
  out.warnings = warnings as string[];
  return out;
}

/** sm_90 for (9, 0), sm_120 for (12, 0): how torch and nvcc name a compute capability. */
export const smName = ([major, minor]: [number, number]) => `sm_${major}${minor}`;

const ARCH_RE = /^(sm|compute)_(\d+)([af]?)$/;

/**
 * The entry of `archList` whose code the CUDA runtime would load on a device of compute capability `cap`,
 * or undefined: a cubin (sm_) before PTX (compute_), the highest of its kind. What counts, per the CUDA
 * programming guide's compatibility rules (the digits are major then one minor digit: sm_86 is 8.6, sm_120 is 12.0):
 *  - sm_XY, a cubin: runs on X.Z for Z >= Y, same major only (sm_86 runs on 8.9, not on 8.0, not on 9.0);
 *  - compute_XY, PTX: the driver JIT-compiles it for any device of capability >= X.Y, later majors included
 *    (given a driver at least as new as the toolkit that wrote the PTX, which CUDA init has already checked);
 *  - an `a` suffix (sm_90a, compute_90a: architecture-specific features) runs on exactly X.Y;
 *  - an `f` suffix (sm_100f, compute_100f: CUDA 12.9 family-specific) runs on X.Z for Z >= Y, same major, PTX too.
 * torch's own warning (_check_cubins) is looser: it accepts any sm_ of the same major, so a wheel with only
 * sm_86 passes it on an 8.0 A100 where no kernel loads; the matmul check is the empirical answer.
 * Not modelled: Tegra parts (sm_72, sm_87), outside the desktop binary-compatibility promise; ROCm's gfx
 * names, which never match.
 */
export function compatibleArch(cap: [number, number], archList: string[]): string | undefined {
  const [major, minor] = cap;
  const usable = archList.flatMap((entry) => {
    const m = ARCH_RE.exec(entry);
    if (!m) return [];
    const n = Number(m[2]);
    const [x, y] = [Math.floor(n / 10), n % 10];
    const cubin = m[1] === 'sm';
    let runs: boolean;
    if (m[3] === 'a') runs = x === major && y === minor;
    else if (cubin || m[3] === 'f') runs = x === major && minor >= y;
    else runs = major > x || (major === x && minor >= y);
    return runs ? [{ entry, rank: (cubin ? 10000 : 0) + n }] : [];
  });
  return usable.sort((p, q) => q.rank - p.rank)[0]?.entry;
}

/**
 * An exception's repr or a warning, for a summary table: its first line (torch puts the cause there and
 * fixed hints after it; the whole text stays in the probe's report), at most `max` characters.
 */
function firstLine(s: string, max = 300): string {
  const [head, ...rest] = s.trim().split(/\\n|\n/);
  const line = `${head.trim()}${rest.some((l) => l.trim() !== '') ? ' ...' : ''}`;
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

/**
 * Findings of the GPU lane: CUDA available in the container; a kernel in the wheel for device 0's
 * compute capability (see compatibleArch); and a float32 matmul on the GPU within MATMUL_TOLERANCE of the CPU.
 * When CUDA is not available the other checks cannot run, and only that finding, with its reason, is given.
 */
export function compareGpu(gpu: GpuProbe): Finding[] {
  const out: Finding[] = [];
  if (gpu.available !== true) {
    const why = gpu.errors.available ?? gpu.warnings[0];
    const seen = gpu.available === false ? 'false' : 'unknown';
    out.push({ check: 'gpu: cuda available', expected: 'true', actual: why ? `${seen}: ${firstLine(why)}` : seen });
    return out;
  }
  if (gpu.capability === null) {
    const why = gpu.errors.capability ?? gpu.errors.device_name;
    out.push({ check: 'gpu: device 0', expected: 'a name and compute capability', actual: why ? firstLine(why) : 'none reported' });
  } else if (gpu.archList === null) {
    out.push({
      check: 'gpu: arch',
      expected: `torch.cuda.get_arch_list() for ${smName(gpu.capability)}`,
      actual: firstLine(gpu.errors.arch_list ?? 'none reported'),
    });
  } else if (compatibleArch(gpu.capability, gpu.archList) === undefined) {
    const [major, minor] = gpu.capability;
    const sm = smName(gpu.capability);
    out.push({
      check: 'gpu: arch',
      expected: `a kernel for ${sm} (${gpu.deviceName ?? 'device 0'}) in the arch list: sm_${major}y cubin with y <= ${minor}, or compute_xy PTX with xy <= ${major}${minor}`,
      actual: `[${gpu.archList.join(', ')}]`,
    });
  }
  const expected = `max abs error <= ${MATMUL_TOLERANCE} (seeded 256x256 float32 GPU vs CPU, TF32 off)`;
  if (gpu.matmulMaxAbsError === null) {
    out.push({ check: 'gpu: matmul', expected, actual: firstLine(gpu.errors.matmul_max_abs_error ?? 'no result') });
  } else if (!(gpu.matmulMaxAbsError <= MATMUL_TOLERANCE)) {
    out.push({ check: 'gpu: matmul', expected, actual: `${gpu.matmulMaxAbsError}${gpu.tf32 ? ' with TF32 on' : ''}` });
  }
  return out;
}

const TOOLKIT_FIX =
  'Install the NVIDIA Container Toolkit on the runner and register it with Docker (`sudo nvidia-ctk runtime configure --runtime=docker`, then restart dockerd), run this job on a GPU runner, or set gpu: false.';
const DRIVER_FIX = 'Run this job on a runner with an NVIDIA GPU and its driver loaded (`nvidia-smi` on the host lists the GPU), or set gpu: false.';

/**
 * docker's and the NVIDIA hook's own words, as recorded on this machine or quoted in moby and NVIDIA issue
 * reports (__tests__/fixtures/gpu/docker-run-stderr.*.json). First match wins: specific causes before the
 * hook's generic "nvidia-container-cli:" line.
 */
const RUN_PROBLEMS: { pattern: RegExp; missing: string; fix: string }[] = [
  {
    // moby: `--gpus` with no device driver for the "gpu" capability, i.e. no NVIDIA runtime hook installed.
    pattern: /could not select device driver "[^"]*" with capabilities: \[\[gpu\]\]/i,
    missing: "this runner's Docker has no NVIDIA runtime to give containers a GPU",
    fix: TOOLKIT_FIX,
  },
  {
    // The newer engines' wording, then the 20.10 engine's (recorded here).
    pattern: /unknown or invalid runtime name: nvidia|Unknown runtime specified nvidia/i,
    missing: "this runner's Docker has no runtime named nvidia (the NVIDIA Container Toolkit is not installed or not registered in daemon.json)",
    fix: TOOLKIT_FIX,
  },
  {
    // Docker 25+ with CDI, and the toolkit's CDI mode: no spec generated for the GPUs (nvidia-ctk cdi generate).
    pattern: /unresolvable CDI devices [^\s"\\]*nvidia\.com\/gpu[^\s"\\]*/i,
    missing: "this runner's Docker was asked for NVIDIA GPUs through CDI but no CDI specification describes them",
    fix: 'Generate one on the runner (`sudo nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml`, which needs the NVIDIA driver), run this job on a GPU runner, or set gpu: false.',
  },
  {
    // nvidia-container-cli checks the image's NVIDIA_REQUIRE_CUDA against the host driver.
    pattern: /unsatisfied condition: cuda\s*>=\s*[\d.]+/i,
    missing: "the runner's NVIDIA driver is older than the CUDA version the image requires (its NVIDIA_REQUIRE_CUDA)",
    fix: 'Update the driver on the runner, run this job on a runner with a newer driver, build on a base image for an older CUDA, or set gpu: false.',
  },
  {
    pattern: /nvidia-container-cli: initialization error: nvml error: driver not loaded/i,
    missing: 'the NVIDIA Container Toolkit is installed but the NVIDIA kernel driver is not loaded on the runner (no GPU, or no driver)',
    fix: DRIVER_FIX,
  },
  {
    pattern: /libnvidia-ml\.so\.1: cannot open shared object file/i,
    missing: 'the NVIDIA Container Toolkit is installed but the NVIDIA driver libraries (libnvidia-ml) are not on the runner',
    fix: DRIVER_FIX,
  },
  {
    // Older nvidia-container-cli said this at container start; CUDA itself says it inside a container without a device.
    pattern: /no CUDA-capable device is detected/i,
    missing: 'the runner has no NVIDIA GPU that CUDA can see',
    fix: DRIVER_FIX,
  },
  {
    pattern: /nvidia-container-cli: [^\n"\\]+/i,
    missing: "the NVIDIA Container Toolkit's hook could not set up the GPU for the container",
    fix: `See the hook's message above. ${DRIVER_FIX}`,
  },
];

/**
 * A clear message when `docker run --gpus all` (or the probe in it) failed because the runner cannot give a
 * container a GPU: what is missing, docker's own words, and what to do. undefined for any other failure.
 */
export function gpuRunProblem(stderr: string): string | undefined {
  for (const { pattern, missing, fix } of RUN_PROBLEMS) {
    const m = pattern.exec(stderr);
    if (m) return `gpu: true, but ${missing}. Docker said: "${m[0].trim().replace(/[.:\s]+$/, '')}". ${fix}`;
  }
  return undefined;
}
