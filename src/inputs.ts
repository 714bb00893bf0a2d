import * as core from '@actions/core';
import * as fs from 'fs';
import { ConfigError, parseConfig } from './config';
import { InputError } from './errors';
import type { GivenDigest } from './publish/publish';
import { parseImageRef } from './plan/image';
import { parsePlatform, type PlatformInfo } from './plan/platforms';
import { parseChecks, type DeclaredCheck } from './verify/checks';
import { parseSizeBudget, type SizeBudget } from './verify/size';
import { parseMemory, parseModelCache, type HygieneOptions } from './verify/hygiene';
import { checkVariant, checkVersion, defaultTorchaudio, DEFAULT_INDEX_BASE, type Expectation } from './plan/torch';

/** Every input of action.yml, parsed and validated once. Nothing else reads INPUT_*. */
export interface Inputs {
  image: string;
  context: string;
  file: string;
  platforms: PlatformInfo[];
  torchVersion: string;
  torchaudioVersion: string;
  /** '' when the image has no torchvision to check. */
  torchvisionVersion: string;
  /** The image's CPython ('3.11', '3.13t'): the wheels the index must have; '' accepts any. */
  pythonVersion: string;
  allowUnknownTorch: boolean;
  torchVariants: Record<string, string>;
  torchIndexUrl: string;
  expect: Record<string, Partial<Expectation>>;
  buildArgs: BuildArg[];
  target: string;
  network: string;
  /** Extra raw tags, added to what the tag rules give. */
  tags: string[];
  tagRules: string;
  shaLength: number;
  /** 'auto': push except on pull requests. */
  push: 'auto' | boolean;
  dryRun: boolean;
  pinLint: 'error' | 'warn' | 'off';
  pinnedPackages: string[];
  mode: 'all' | 'platform' | 'merge';
  /** merge mode: the platform jobs' digests. */
  digests: GivenDigest[];
  registryUsername: string;
  registryPassword: string;
  tokenEnv: string;
  /** Empty: the action generates one per run. */
  workerToken: string;
  pingPort: number;
  pingPath: string;
  startupTimeout: number;
  gpu: boolean;
  python: string;
  /** gzip level of layers compressed while pushing (1 fastest .. 9 smallest). */
  compressionLevel: number;
  /** Images of the same registry whose published layers may be mounted instead of uploaded. */
  mountFrom: string[];
  /** How many platforms build and verify at once ('auto': one per two cores). */
  parallel: number | 'auto';
  /** Size limits per platform (compressed, uncompressed, growth over the published image). */
  sizeBudget: SizeBudget;
  /** Checks the user declared (exec and HTTP probes), run against the started container. */
  checks: DeclaredCheck[];
  /** Container hygiene checks (non-root, model cache, health check, offline start, memory). */
  hygiene: HygieneOptions;
}

/** A build arg for every platform (`platform` undefined) or for one platform. */
export interface BuildArg {
  platform?: string;
  name: string;
  value: string;
}

/** The source of raw input strings: core.getInput on a runner, a plain record in unit tests. */
export type InputSource = (name: string) => string;

export const actionsInputSource: InputSource = (name) => core.getInput(name);

/** Items separated by newlines or commas, trimmed, empties dropped (the toolkit's list convention). */
export function listOf(raw: string): string[] {
  return raw
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function int(raw: string, input: string, min: number, max: number): number {
  const s = raw.trim();
  if (!/^\d+$/.test(s) || Number(s) < min || Number(s) > max) {
    throw new InputError(input, `'${raw}' is not a whole number from ${min} to ${max}`);
  }
  return Number(s);
}

function bool(raw: string, input: string): boolean {
  const s = raw.trim().toLowerCase();
  if (['true', 'yes', '1', 'on'].includes(s)) return true;
  if (['false', 'no', '0', 'off'].includes(s)) return false;
  throw new InputError(input, `'${raw}' is not a boolean; accepted: true or false`);
}

function oneOf<T extends string>(raw: string, input: string, accepted: readonly T[]): T {
  const s = raw.trim().toLowerCase() as T;
  if (!accepted.includes(s)) throw new InputError(input, `'${raw}' is not accepted; accepted: ${accepted.join(', ')}`);
  return s;
}

/** merge mode: `linux/amd64=sha256:<64 hex>` or `linux/amd64=ghcr.io/o/w@sha256:<64 hex>`, one per line. */
export function parseDigests(raw: string, input = 'digests'): GivenDigest[] {
  return listOf(raw).map((item) => {
    const m = /^([^=\s]+)\s*=\s*(?:(\S+)@)?(sha256:[0-9a-f]{64})$/.exec(item);
    if (!m) throw new InputError(input, `'${item}' is not PLATFORM=sha256:<64 hex digits> (or PLATFORM=IMAGE@sha256:...)`);
    return { platform: parsePlatform(m[1], input).platform, digest: m[3], ...(m[2] ? { image: m[2] } : {}) };
  });
}

/** `linux/amd64=cu121,linux/arm64=cpu` */
export function parseVariants(raw: string, input = 'torch-variants'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of listOf(raw)) {
    const m = /^([^=\s]+)\s*=\s*(\S+)$/.exec(item);
    if (!m) throw new InputError(input, `'${item}' is not PLATFORM=VARIANT (for example linux/amd64=cu121,linux/arm64=cpu)`);
    const p = parsePlatform(m[1], input).platform;
    if (out[p]) throw new InputError(input, `${p} is given twice`);
    checkVariant(m[2], input);
    out[p] = m[2];
  }
  return out;
}

/**
 * Per-platform overrides of the derived expectations, one platform per line:
 *   linux/arm64: torch=1.13.0a0 torchaudio=0.13.1 cuda=none
 */
export function parseExpect(raw: string, input = 'expect'): Record<string, Partial<Expectation>> {
  const out: Record<string, Partial<Expectation>> = {};
  for (const line of raw.split(/[\n;]/).map((l) => l.trim()).filter(Boolean)) {
    const m = /^([^:\s]+)\s*:\s*(.+)$/.exec(line);
    if (!m) throw new InputError(input, `'${line}' is not 'PLATFORM: torch=V torchaudio=V cuda=V|none'`);
    const p = parsePlatform(m[1], input).platform;
    const e: Partial<Expectation> = out[p] ?? {};
    for (const pair of m[2].split(/\s+/)) {
      const kv = /^(torch|torchaudio|cuda)=(\S+)$/.exec(pair);
      if (!kv) throw new InputError(input, `'${pair}' in '${line}' is not one of torch=V, torchaudio=V, cuda=V|none`);
      if (kv[1] === 'cuda') e.cuda = kv[2] === 'none' ? null : kv[2];
      else e[kv[1] as 'torch' | 'torchaudio'] = kv[2];
    }
    out[p] = e;
  }
  return out;
}

/** `NAME=value` for all platforms, `linux/arm64:NAME=value` for one. Values may contain `=` and `,`. */
export function parseBuildArgs(raw: string, input = 'build-args'): BuildArg[] {
  const out: BuildArg[] = [];
  for (const line of raw.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const m = /^(?:([A-Za-z0-9_]+\/[A-Za-z0-9_/]+)\s*:\s*)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new InputError(input, `'${line}' is not NAME=value or PLATFORM:NAME=value (one per line)`);
    out.push({ platform: m[1] ? parsePlatform(m[1], input).platform : undefined, name: m[2], value: m[3] });
  }
  return out;
}

export function readInputs(get: InputSource = actionsInputSource): Inputs {
  const image = get('image').trim();
  if (!image) throw new InputError('image', 'is required: the image to build without a tag, for example ghcr.io/OWNER/worker');

  const platformNames = listOf(get('platforms') || 'linux/amd64,linux/arm64');
  if (platformNames.length === 0) throw new InputError('platforms', 'no platform given; accepted: linux/amd64, linux/arm64');
  const platforms: PlatformInfo[] = [];
  for (const name of platformNames) {
    const p = parsePlatform(name);
    if (platforms.some((q) => q.platform === p.platform)) throw new InputError('platforms', `${p.platform} is given twice`);
    platforms.push(p);
  }

  const torchVersion = get('torch-version').trim() || '2.2.2';
  checkVersion(torchVersion, 'torch-version');
  const torchaudioVersion = get('torchaudio-version').trim() || defaultTorchaudio(torchVersion);
  checkVersion(torchaudioVersion, 'torchaudio-version');

  const torchvisionVersion = get('torchvision-version').trim();
  if (torchvisionVersion) checkVersion(torchvisionVersion, 'torchvision-version');
  const pythonVersion = get('python-version').trim();
  if (pythonVersion && !/^3\.\d{1,2}t?$/.test(pythonVersion)) {
    throw new InputError('python-version', `'${pythonVersion}' is not a CPython version such as 3.11 (3.13t for a free-threaded build)`);
  }
  if (/^3\.[1-5]$/.test(pythonVersion)) {
    // YAML reads an unquoted 3.10 as the number 3.1.
    throw new InputError('python-version', `'${pythonVersion}' is a Python no torch wheel is built for; if you meant 3.${pythonVersion.slice(2)}0, quote it ('3.${pythonVersion.slice(2)}0'): YAML reads 3.${pythonVersion.slice(2)}0 as the number ${pythonVersion}`);
  }

  const torchVariants = parseVariants(get('torch-variants') || 'linux/amd64=cu121,linux/arm64=cpu');
  for (const p of platforms) {
    if (!torchVariants[p.platform]) {
      throw new InputError('torch-variants', `no variant for ${p.platform}; add ${p.platform}=cpu (or a CUDA variant such as cu121)`);
    }
  }

  const torchIndexUrl = get('torch-index-url').trim() || DEFAULT_INDEX_BASE;
  if (!/^https?:\/\/\S+$/.test(torchIndexUrl)) {
    throw new InputError('torch-index-url', `'${torchIndexUrl}' is not an http(s) URL`);
  }

  const context = get('context').trim() || '.';
  const tokenEnv = get('token-env').trim() || 'WORKER_TOKEN';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(tokenEnv)) {
    throw new InputError('token-env', `'${tokenEnv}' is not an environment variable name`);
  }
  const pingPath = get('ping-path').trim() || '/v1/ping';
  if (!pingPath.startsWith('/')) throw new InputError('ping-path', `'${pingPath}' must start with /`);

  return {
    image,
    context,
    file: get('file').trim() || `${context.replace(/\/+$/, '')}/Dockerfile`,
    platforms,
    torchVersion,
    torchaudioVersion,
    torchvisionVersion,
    pythonVersion,
    allowUnknownTorch: bool(get('allow-unknown-torch') || 'false', 'allow-unknown-torch'),
    torchVariants,
    torchIndexUrl,
    expect: parseExpect(get('expect')),
    buildArgs: parseBuildArgs(get('build-args')),
    target: get('target').trim(),
    network: get('network').trim(),
    tags: listOf(get('tags')),
    tagRules: get('tag-rules'),
    shaLength: int(get('sha-length') || '7', 'sha-length', 4, 40),
    push: (get('push').trim() || 'auto') === 'auto' ? 'auto' : bool(get('push'), 'push'),
    dryRun: bool(get('dry-run') || 'false', 'dry-run'),
    pinLint: oneOf(get('pin-lint') || 'error', 'pin-lint', ['error', 'warn', 'off'] as const),
    pinnedPackages: listOf(get('pinned-packages')),
    mode: oneOf(get('mode') || 'all', 'mode', ['all', 'platform', 'merge'] as const),
    digests: parseDigests(get('digests')),
    registryUsername: get('registry-username').trim(),
    registryPassword: get('registry-password'),
    tokenEnv,
    workerToken: get('worker-token').trim(),
    pingPort: int(get('ping-port') || '8477', 'ping-port', 1, 65535),
    pingPath,
    startupTimeout: int(get('startup-timeout') || '120', 'startup-timeout', 1, 86400),
    gpu: bool(get('gpu') || 'false', 'gpu'),
    python: get('python').trim() || 'python3',
    compressionLevel: int(get('compression-level') || '6', 'compression-level', 1, 9),
    mountFrom: listOf(get('mount-from')).map((ref) => {
      parseImageRef(ref, 'mount-from');
      return ref;
    }),
    checks: parseChecks(get('checks'), { input: 'checks' }),
    sizeBudget: parseSizeBudget(get('size-budget')),
    parallel: (get('parallel').trim() || 'auto') === 'auto' ? 'auto' : int(get('parallel'), 'parallel', 1, 16),
    hygiene: {
      nonRoot: bool(get('non-root') || 'true', 'non-root'),
      modelCache: parseModelCache(get('model-cache')),
      healthcheck: oneOf(get('healthcheck') || 'required', 'healthcheck', ['required', 'optional', 'off'] as const),
      offline: bool(get('offline') || 'true', 'offline'),
      memory: parseMemory(get('memory')) ? get('memory').trim() : '',
    },
  };
}

/** One image (or variant) to build: its inputs, and how its tags are told apart from its siblings'. */
export interface ImageInputs {
  name: string;
  suffix: string;
  inputs: Inputs;
}

/**
 * Without `config`, the action's inputs describe one image. With it, every entry of the file is an
 * image; inputs that are set win over the file. (So the config-settable inputs have empty
 * defaults in action.yml: an empty input means "not set", and the defaults live here.)
 * A value the parser refuses is reported at its file, line and key when it came from the file.
 */
export function readImages(get: InputSource = actionsInputSource, readFile: (p: string) => string = (p) => fs.readFileSync(p, 'utf8')): ImageInputs[] {
  const file = get('config').trim();
  const select = listOf(get('select'));
  if (!file) {
    if (select.length) throw new InputError('select', 'picks entries of a config file, and no config is given');
    return [{ name: 'default', suffix: '', inputs: readInputs(get) }];
  }
  let text: string;
  try {
    text = readFile(file);
  } catch (e) {
    throw new InputError('config', `cannot read '${file}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const config = parseConfig(text, file);
  const names = config.entries.map((e) => e.name);
  for (const n of select) {
    if (!names.includes(n)) throw new InputError('select', `'${n}' is not an image of ${file}; its images: ${names.join(', ')}`);
  }
  // A workflow fans a config out one image per job: `select` keeps the entries that job builds.
  const entries = select.length ? config.entries.filter((e) => select.includes(e.name)) : config.entries;
  return entries.map((entry) => {
    const fromFile = (name: string) => get(name).trim() === '' && entry.values[name] !== undefined;
    const source: InputSource = (name) => (fromFile(name) ? entry.values[name] : get(name));
    try {
      return { name: entry.name, suffix: entry.suffix, inputs: readInputs(source) };
    } catch (e) {
      if (e instanceof InputError && fromFile(e.input)) {
        throw new ConfigError(file, entry.lines[e.input], `${entry.path}.${e.input}`, e.message.replace(/^Input '[^']+': /, ''));
      }
      throw e;
    }
  });
}
