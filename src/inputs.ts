import * as core from '@actions/core';
import { InputError } from './errors';
import { parsePlatform, type PlatformInfo } from './plan/platforms';
import { checkVariant, checkVersion, defaultTorchaudio, DEFAULT_INDEX_BASE, type Expectation } from './plan/torch';

/** Every input of action.yml, parsed and validated once. Nothing else reads INPUT_*. */
export interface Inputs {
  image: string;
  context: string;
  file: string;
  platforms: PlatformInfo[];
  torchVersion: string;
  torchaudioVersion: string;
  torchVariants: Record<string, string>;
  torchIndexUrl: string;
  expect: Record<string, Partial<Expectation>>;
  buildArgs: BuildArg[];
  target: string;
  network: string;
  tags: string[];
  push: boolean;
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
    torchVariants,
    torchIndexUrl,
    expect: parseExpect(get('expect')),
    buildArgs: parseBuildArgs(get('build-args')),
    target: get('target').trim(),
    network: get('network').trim(),
    tags: listOf(get('tags')),
    push: bool(get('push') || 'true', 'push'),
    registryUsername: get('registry-username').trim(),
    registryPassword: get('registry-password'),
    tokenEnv,
    workerToken: get('worker-token').trim(),
    pingPort: int(get('ping-port') || '8477', 'ping-port', 1, 65535),
    pingPath,
    startupTimeout: int(get('startup-timeout') || '120', 'startup-timeout', 1, 86400),
    gpu: bool(get('gpu') || 'false', 'gpu'),
    python: get('python').trim() || 'python3',
  };
}
