import type { ImageConfig } from '../adapters/docker';
import { InputError } from '../errors';
import type { Finding } from './contract';

/**
 * Container hygiene: the ways an ML worker image that answers its ping still fails in production
 * (the field notes in shared/seeds 000-002): it runs as root, its non-root user cannot write the
 * model-cache volume mounted over a root-owned directory, its HEALTHCHECK is missing or never
 * turns healthy, it downloads models at start instead of starting offline from its cache, or it
 * needs more memory than the limit it will be given.
 */
export interface HygieneOptions {
  /** Fail when the image's user is root. */
  nonRoot: boolean;
  /** 'auto' (from the image's HF_HOME / XDG_CACHE_HOME, else /models), a path, or 'none' for no volume check. */
  modelCache: string;
  /** 'required': a HEALTHCHECK must exist and turn healthy; 'optional': checked when present; 'off'. */
  healthcheck: 'required' | 'optional' | 'off';
  /** Start with no route beyond the runner and the offline variables set. */
  offline: boolean;
  /** A docker memory limit ('6g'), '' for none. */
  memory: string;
}

export const DEFAULT_HYGIENE: HygieneOptions = { nonRoot: true, modelCache: 'auto', healthcheck: 'required', offline: true, memory: '' };

/**
 * What the Hugging Face libraries read to stay offline (huggingface_hub, transformers,
 * datasets): with them set, a missing model is an error at once instead of a download.
 */
export const OFFLINE_ENV = ['HF_HUB_OFFLINE=1', 'TRANSFORMERS_OFFLINE=1', 'HF_DATASETS_OFFLINE=1'];

/** `6g`, `512m`, `1.5g` as docker's --memory takes them (b, k, m, g; no suffix means bytes). */
export function parseMemory(raw: string, input = 'memory'): { text: string; bytes: number } | undefined {
  const s = raw.trim().toLowerCase();
  if (s === '' || s === 'none') return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg]?)i?b?$/.exec(s);
  const mult = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as const;
  const bytes = m ? Math.floor(Number(m[1]) * mult[m[2] as keyof typeof mult]) : NaN;
  // Docker refuses limits under 6 MiB; a worker with python and torch needs hundreds.
  if (!m || !(bytes >= 6 * 1024 ** 2) || bytes > 2 ** 50) {
    throw new InputError(
      input,
      `'${raw}' is not a memory limit; accepted: a size of at least 6m such as 512m, 6g or 1.5g (units b, k, m, g), or empty for no limit`,
    );
  }
  return { text: `${bytes}b`, bytes };
}

/** 'auto', 'none' or an absolute path inside the image. */
export function parseModelCache(raw: string, input = 'model-cache'): string {
  const s = raw.trim() || 'auto';
  if (s === 'auto' || s === 'none') return s;
  if (!s.startsWith('/') || /[\s:,]/.test(s) || s.split('/').includes('..') || s === '/') {
    throw new InputError(
      input,
      `'${raw}' is not accepted; accepted: auto, none, or an absolute path inside the image without spaces, ':' or '..' (for example /models)`,
    );
  }
  return s.replace(/\/+$/, '');
}

/** Where the model cache volume goes: the path given, else where the Hugging Face libraries would cache. */
export function modelCachePath(option: string, env: Record<string, string>): string | undefined {
  if (option === 'none') return undefined;
  if (option !== 'auto') return option;
  const fromEnv = env.HF_HOME || env.XDG_CACHE_HOME;
  return fromEnv && fromEnv.startsWith('/') ? fromEnv.replace(/\/+$/, '') || '/models' : '/models';
}

/** USER root, 0, root:group, 0:0, or no USER at all all mean root. */
export function isRootUser(user: string): boolean {
  const name = user.trim().split(':')[0];
  return name === '' || name === 'root' || name === '0';
}

/** Findings known from the image's config alone, before it runs. */
export function configFindings(cfg: ImageConfig, opts: HygieneOptions): Finding[] {
  const out: Finding[] = [];
  if (opts.nonRoot && isRootUser(cfg.user)) {
    out.push({ check: 'non-root user', expected: 'a USER other than root in the image', actual: cfg.user ? `USER ${cfg.user}` : 'no USER (runs as root)' });
  }
  if (opts.healthcheck === 'required' && !cfg.healthcheck) {
    out.push({ check: 'healthcheck', expected: 'a HEALTHCHECK in the image', actual: 'none' });
  }
  return out;
}

/**
 * Runs inside the running container, as the image's user (docker exec's default): who it is, whether
 * it can create a file in the model cache, and the most memory the container has used so far.
 * Peak memory comes from the container's own cgroup: memory.peak (cgroup v2, kernel 5.19 and later)
 * or memory.max_usage_in_bytes (cgroup v1); older v2 kernels have no peak, and it is reported unknown.
 */
export const HYGIENE_SCRIPT = [
  'import json, os, sys',
  'out = {"uid": os.getuid(), "gid": os.getgid()}',
  'cache = sys.argv[1] if len(sys.argv) > 1 else ""',
  'if cache:',
  '    probe = os.path.join(cache, ".ml-image-build-write-test")',
  '    try:',
  '        with open(probe, "w") as f:',
  '            f.write("ok")',
  '        os.remove(probe)',
  '        out["cacheWritable"] = True',
  '    except Exception as e:',
  '        out["cacheWritable"] = False',
  '        out["cacheError"] = repr(e)',
  'for p in ("/sys/fs/cgroup/memory.peak", "/sys/fs/cgroup/memory/memory.max_usage_in_bytes"):',
  '    try:',
  '        out["peakMemory"] = int(open(p).read().split()[0])',
  '        break',
  '    except Exception:',
  '        pass',
  'print("MLIB_HYGIENE " + json.dumps(out))',
].join('\n');

export interface HygieneProbe {
  uid: number;
  gid: number;
  cacheWritable?: boolean;
  cacheError?: string;
  peakMemory?: number;
}

export function parseHygiene(stdout: string): HygieneProbe {
  const line = stdout.split('\n').find((l) => l.startsWith('MLIB_HYGIENE '));
  if (!line) throw new Error(`the hygiene probe printed no result; output was: ${stdout.trim().slice(-500) || '(empty)'}`);
  return JSON.parse(line.slice('MLIB_HYGIENE '.length)) as HygieneProbe;
}

/** Findings from what the probe saw inside the running container. */
export function probeFindings(h: HygieneProbe, opts: HygieneOptions, cache: string | undefined, user: string): Finding[] {
  const out: Finding[] = [];
  if (opts.nonRoot && h.uid === 0 && !isRootUser(user)) {
    out.push({ check: 'non-root user', expected: 'a user other than uid 0', actual: `USER ${user} is uid 0` });
  }
  if (cache && h.cacheWritable === false) {
    out.push({
      check: 'model cache writable',
      expected: `uid ${h.uid} can create a file in an empty volume mounted at ${cache}`,
      actual: `${h.cacheError ?? 'write failed'} (make the directory in the image and chown it to the worker's user before USER, so a new volume copies its owner)`,
    });
  }
  return out;
}
