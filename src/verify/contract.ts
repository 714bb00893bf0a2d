import type { Expectation } from '../plan/torch';
import { GPU_PROBE_FLAG, GPU_PROBE_SECTION } from './gpu';

/** One failed check: which check, what the plan wanted, what the image gave. */
export interface Finding {
  check: string;
  expected: string;
  actual: string;
}

const isCount = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/**
 * The /v1/ping JSON contract from the worker procedure: status "ok", a version string, gpu and
 * diarization booleans, and job counters as non-negative integers. `gpu` must be false unless the
 * run asked for a GPU, and true on a CUDA platform when it did.
 */
export function checkPingBody(body: unknown, gpuExpected: boolean): Finding[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return [{ check: 'ping body', expected: 'a JSON object', actual: JSON.stringify(body) }];
  }
  const b = body as Record<string, unknown>;
  const out: Finding[] = [];
  const show = (v: unknown) => (v === undefined ? '(missing)' : JSON.stringify(v));
  if (b.status !== 'ok') out.push({ check: 'ping status', expected: '"ok"', actual: show(b.status) });
  if (typeof b.version !== 'string') out.push({ check: 'ping version', expected: 'a string', actual: show(b.version) });
  for (const k of ['gpu', 'diarization']) {
    if (typeof b[k] !== 'boolean') out.push({ check: `ping ${k}`, expected: 'a boolean', actual: show(b[k]) });
  }
  if (typeof b.gpu === 'boolean' && b.gpu !== gpuExpected) {
    out.push({ check: 'ping gpu', expected: String(gpuExpected), actual: String(b.gpu) });
  }
  for (const k of ['activeJobs', 'maxConcurrentJobs']) {
    if (!isCount(b[k])) out.push({ check: `ping ${k}`, expected: 'a non-negative integer', actual: show(b[k]) });
  }
  return out;
}

/** What the probe prints inside the image. */
export interface ProbeResult {
  torch: string | null;
  torchaudio: string | null;
  cuda: string | null;
  machine: string;
  /** Present when the probe ran with GPU_PROBE_FLAG; read it with parseGpuProbe. */
  gpu?: unknown;
}

/**
 * Runs inside the image with its own python. Import errors are reported as values, not crashes,
 * so a missing torchaudio shows as a finding next to the torch version that was found.
 * With GPU_PROBE_FLAG after the script (`python3 -c PROBE_SCRIPT --gpu`) the same run also reports the
 * GPU lane under "gpu" (see ./gpu): one exec, one line. scripts/gpu-probe.py is this text, for a GPU
 * machine without Docker or node.
 */
export const PROBE_SCRIPT = [
  'import json, platform, sys, warnings',
  'out = {"machine": platform.machine(), "torch": None, "torchaudio": None, "cuda": None}',
  'try:',
  '    import torch',
  '    out["torch"] = str(torch.__version__)',
  '    out["cuda"] = None if torch.version.cuda is None else str(torch.version.cuda)',
  'except Exception as e:',
  '    out["torch_error"] = repr(e)',
  'try:',
  '    import torchaudio',
  '    out["torchaudio"] = str(torchaudio.__version__)',
  'except Exception as e:',
  '    out["torchaudio_error"] = repr(e)',
  ...GPU_PROBE_SECTION,
  `if ${JSON.stringify(GPU_PROBE_FLAG)} in sys.argv[1:]:`,
  '    out["gpu"] = gpu_probe()',
  'print("MLIB_PROBE " + json.dumps(out))',
].join('\n');

export function parseProbe(stdout: string): ProbeResult & Record<string, unknown> {
  const line = stdout.split('\n').find((l) => l.startsWith('MLIB_PROBE '));
  if (!line) throw new Error(`the probe printed no result; output was: ${stdout.trim().slice(-500) || '(empty)'}`);
  return JSON.parse(line.slice('MLIB_PROBE '.length)) as ProbeResult & Record<string, unknown>;
}

/** Exact string comparison: 2.2.2 is not 2.2.2+cu121. */
export function compareProbe(expect: Expectation, machine: string, probe: ProbeResult): Finding[] {
  const out: Finding[] = [];
  const show = (v: string | null) => (v === null ? 'none' : v);
  if (probe.machine !== machine) out.push({ check: 'architecture', expected: machine, actual: probe.machine });
  if (probe.torch !== expect.torch) out.push({ check: 'torch version', expected: expect.torch, actual: show(probe.torch) });
  if (probe.torchaudio !== expect.torchaudio) out.push({ check: 'torchaudio version', expected: expect.torchaudio, actual: show(probe.torchaudio) });
  if (probe.cuda !== expect.cuda) out.push({ check: 'CUDA build', expected: show(expect.cuda), actual: show(probe.cuda) });
  return out;
}
