import * as core from '@actions/core';
import * as fs from 'fs';
import {
  parseBuildContexts,
  parseCache,
  parseSecretFiles,
  parseSecrets,
  parseShmSize,
  parseSsh,
  parseUlimits,
  checkOptionFiles,
  checkSecretIds,
  type BuildOptions,
} from './builder/options';
import { ConfigError, parseConfig } from './config';
import { InputError, shown } from './errors';
import { checkBuildPaths, inWorkspace, readRegularFile } from './files';
import { MAX_BUILD_ARG_BYTES, MAX_BUILD_ARGS_BYTES, MAX_LINE_CHARS, WORKER_TOKEN_CHARS } from './limits';
import { checkAnnotationPlatforms, parseAnnotations, type Annotation } from './plan/annotations';
import { parseImage, parseImageRef } from './plan/image';
import { parseLabels } from './plan/labels';
import { parseTagsInput } from './plan/tags';
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
  /** Extra raw tags, added to what the tag rules give (IMAGE:TAG lines of this image reduced to TAG). */
  tags: string[];
  /** User labels (metadata-action's `labels`): merged over the plan's OCI labels; '' removes one. */
  labels: Record<string, string>;
  /** User annotations for the platform manifests, the manifest list and its entries. */
  annotations: Annotation[];
  /** Always false: images are pushed without BuildKit attestations (parseAttestationInput says why). */
  provenance: false;
  sbom: false;
  tagRules: string;
  shaLength: number;
  /** 'auto': push except on pull requests. */
  push: 'auto' | boolean;
  dryRun: boolean;
  /**
   * The run's "now" for tags, labels and BUILD_TIME; undefined: the clock. Jobs of one distributed
   * run pass the plan job's time so that they all make the same tags and labels.
   */
  buildTime: Date | undefined;
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
  /** Secrets, ssh, cache, pull, no-cache, build contexts, shm-size, ulimit (build-push-action's names). */
  build: BuildOptions;
}

/** A platform image handed to merge mode by a platform job: `sha256:...` or `IMAGE@sha256:...`. */
export interface GivenDigest {
  platform: string;
  digest: string;
  image?: string;
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

/**
 * How an input's raw text may look before its own parser reads it. `one`: a single line (a newline
 * would make two build args, tags or argv words of one); `many`: the input's own list format.
 * `ascii`: refused with any other character before anything lowercases it (the Kelvin sign
 * lowercases to k). `secret`: never shown in a message.
 */
interface Shape {
  lines: 'one' | 'many';
  ascii: boolean;
  secret?: boolean;
}

const ONE: Shape = { lines: 'one', ascii: true };
const MANY: Shape = { lines: 'many', ascii: true };
/** Paths of the repository may hold any letter. */
const PATH: Shape = { lines: 'one', ascii: false };

/** Every input of action.yml (worker-token has its own stricter rule). */
export const INPUT_SHAPES: Record<string, Shape> = {
  image: ONE,
  config: PATH,
  select: MANY,
  mode: ONE,
  digests: MANY,
  'dry-run': ONE,
  context: PATH,
  file: PATH,
  platforms: MANY,
  'torch-version': ONE,
  'torchaudio-version': ONE,
  'torchvision-version': ONE,
  'allow-unknown-torch': ONE,
  'torch-variants': MANY,
  'torch-index-url': ONE,
  expect: MANY,
  'build-args': { lines: 'many', ascii: false },
  target: ONE,
  network: ONE,
  tags: MANY,
  'tag-rules': MANY,
  'sha-length': ONE,
  'pin-lint': ONE,
  'pinned-packages': MANY,
  push: ONE,
  'registry-username': ONE,
  'registry-password': { lines: 'one', ascii: false, secret: true },
  'token-env': ONE,
  'ping-port': ONE,
  'ping-path': ONE,
  'startup-timeout': ONE,
  gpu: ONE,
  python: ONE,
  'non-root': ONE,
  'model-cache': ONE,
  healthcheck: ONE,
  offline: ONE,
  memory: ONE,
  checks: { lines: 'many', ascii: false },
  'size-budget': MANY,
  parallel: ONE,
  'compression-level': ONE,
  'mount-from': MANY,
  'python-version': ONE,
  'build-time': ONE,
  // Label and annotation values are free text (a description in any language).
  labels: { lines: 'many', ascii: false },
  annotations: { lines: 'many', ascii: false },
  provenance: ONE,
  sbom: ONE,
  // A secret's value may hold any character but a control one; no message shows it.
  secrets: { lines: 'many', ascii: false, secret: true },
  'secret-files': { lines: 'many', ascii: false },
  ssh: { lines: 'many', ascii: false },
  'cache-from': MANY,
  'cache-to': MANY,
  pull: ONE,
  'no-cache': ONE,
  'build-contexts': { lines: 'many', ascii: false },
  'shm-size': ONE,
  ulimit: MANY,
};

const codePoint = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Refuses control characters (and, in one-line inputs, newlines), invisible bidirectional
 * formatting, non-ASCII where only ASCII is accepted, and one-line values over MAX_LINE_CHARS.
 */
export function checkText(raw: string, input: string, shape: Shape): void {
  const value = shape.secret ? 'the value given (not shown)' : shown(raw);
  // In a list input a newline separates items; a carriage return counts only before one (CRLF).
  const bad = shape.lines === 'one' ? /[\u0000-\u001f\u007f-\u009f]/ : /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|\r(?!\n)/;
  const c = bad.exec(raw)?.[0];
  if (shape.lines === 'one' && (c === '\n' || c === '\r')) throw new InputError(input, `${value} must be one line; accepted: a single value without newlines`);
  if (c !== undefined) throw new InputError(input, `${value} holds the control character ${codePoint(c)}; accepted: printable text`);
  const bidi = /[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/.exec(raw)?.[0];
  if (bidi) throw new InputError(input, `${value} holds the invisible formatting character ${codePoint(bidi)}; accepted: visible text`);
  if (shape.ascii) {
    const other = /[^\x00-\x7f]/u.exec(raw)?.[0];
    if (other) {
      throw new InputError(
        input,
        `${value} holds the non-ASCII character ${shape.secret ? '' : `'${other}' `}(${codePoint(other)}); accepted: ASCII only (some letters lowercase into others: the Kelvin sign into k)`,
      );
    }
  }
  if (shape.lines === 'one' && raw.length > MAX_LINE_CHARS) throw new InputError(input, `${value} is longer than ${MAX_LINE_CHARS} characters`);
}

function int(raw: string, input: string, min: number, max: number): number {
  const s = raw.trim();
  if (!/^\d+$/.test(s) || Number(s) < min || Number(s) > max) {
    throw new InputError(input, `${shown(raw)} is not a whole number from ${min} to ${max}`);
  }
  return Number(s);
}

/**
 * `build-time`: exactly the form the plan writes (isoSeconds), so what a plan job hands on is read
 * back unchanged; a date that does not exist (02-30) is refused rather than rolled over.
 */
export function parseBuildTime(raw: string): Date | undefined {
  const s = raw.trim();
  if (!s) return undefined;
  const d = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(s) ? new Date(s) : undefined;
  if (!d || Number.isNaN(d.getTime()) || d.toISOString().replace(/\.000Z$/, 'Z') !== s) {
    throw new InputError('build-time', `${shown(raw)} is not a UTC time; accepted: YYYY-MM-DDTHH:MM:SSZ, e.g. 2026-11-23T03:04:05Z, or empty for now`);
  }
  return d;
}

function bool(raw: string, input: string): boolean {
  const s = raw.trim().toLowerCase();
  if (['true', 'yes', '1', 'on'].includes(s)) return true;
  if (['false', 'no', '0', 'off'].includes(s)) return false;
  throw new InputError(input, `${shown(raw)} is not a boolean; accepted: true or false`);
}

function oneOf<T extends string>(raw: string, input: string, accepted: readonly T[]): T {
  const s = raw.trim().toLowerCase() as T;
  if (!accepted.includes(s)) throw new InputError(input, `${shown(raw)} is not accepted; accepted: ${accepted.join(', ')}`);
  return s;
}

/** `auto` or what `parse` makes of the value; the error says auto is accepted too. */
function autoOr<T>(raw: string, input: string, parse: (s: string) => T): 'auto' | T {
  const s = raw.trim();
  if (s === '' || s.toLowerCase() === 'auto') return 'auto';
  try {
    return parse(s);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(input, `${e.message.replace(/^Input '[^']+': /, '')}, or auto`);
    throw e;
  }
}

/**
 * Names the worker's environment may not use for the token, by who reads them: PATH=<token> and
 * the worker cannot start, LD_PRELOAD=<token> and every process warns, a proxy variable makes the
 * token a host name to resolve (and leak through DNS), DOCKER_HOST or a GITHUB_ variable is read
 * by tools in the image or on the runner, the offline switches are the ones verification sets.
 * Compared case-insensitively; a name ending in * is a prefix. The README lists them.
 */
export const RESERVED_ENV: Record<string, string[]> = {
  'Docker and BuildKit': ['DOCKER_*', 'BUILDKIT_*', 'BUILDX_*', 'COMPOSE_*'],
  'the dynamic loader and C library': ['LD_*', 'GCONV_*', 'MALLOC_*'],
  'the shell and the system': ['PATH', 'HOME', 'HOSTNAME', 'USER', 'SHELL', 'PWD', 'TERM', 'TMPDIR', 'TZ', 'LANG', 'LC_*', 'IFS', 'ENV', 'BASH_ENV'],
  Python: ['PYTHON*'],
  'HTTP clients (proxies, certificates)': [
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'NO_PROXY',
    'ALL_PROXY',
    'FTP_PROXY',
    'SSL_CERT_FILE',
    'SSL_CERT_DIR',
    'REQUESTS_CA_BUNDLE',
    'CURL_CA_BUNDLE',
  ],
  'the GPU runtime': ['NVIDIA_*', 'CUDA_*'],
  'the runner': ['GITHUB_*', 'RUNNER_*', 'ACTIONS_*', 'INPUT_*', 'STATE_*', 'NODE_*'],
  'verification (offline mode, model cache)': ['HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE', 'HF_DATASETS_OFFLINE', 'HF_HOME'],
};

/** The name of the environment variable through which the worker reads its token. */
export function parseTokenEnv(raw: string, input = 'token-env'): string {
  const name = raw.trim() || 'WORKER_TOKEN';
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name)) {
    throw new InputError(
      input,
      `${shown(name)} is not an environment variable name; accepted: letters, digits and _ (up to 128, not starting with a digit), such as WORKER_TOKEN`,
    );
  }
  const upper = name.toUpperCase();
  for (const [who, names] of Object.entries(RESERVED_ENV)) {
    const hit = names.find((n) => (n.endsWith('*') ? upper.startsWith(n.slice(0, -1)) : upper === n));
    if (hit) {
      throw new InputError(
        input,
        `'${name}' is read by ${who} (${hit}): set to the worker token it would change how they behave. Accepted: a name of the worker's own, such as WORKER_TOKEN`,
      );
    }
  }
  return name;
}

/**
 * The worker token, when given: visible ASCII without spaces (it is sent as `Authorization:
 * Bearer <token>` and written as one env-file line), of a length that masking can handle. The
 * message never shows it.
 */
export function parseWorkerToken(raw: string, input = 'worker-token'): string {
  const token = raw.trim();
  if (!token) return '';
  const { min, max } = WORKER_TOKEN_CHARS;
  const why = /[\r\n]/.test(token)
    ? 'holds a newline'
    : /[^\x00-\x7f]/.test(token)
      ? 'holds a non-ASCII character'
      : /[^\x21-\x7e]/.test(token)
        ? 'holds a space or control character'
        : token.length < min
          ? `is ${token.length} characters`
          : token.length > max
            ? `is ${token.length} characters`
            : undefined;
  if (why) {
    throw new InputError(
      input,
      `the value given (not shown) ${why}; accepted: ${min} to ${max} visible ASCII characters without spaces (it is sent in an Authorization header and the container's environment), or empty for a random token per run`,
    );
  }
  return token;
}

/** The base of the wheel index: an http(s) URL without credentials (they would be stored in the image's build args, visible to anyone who pulls it). */
export function parseIndexUrl(raw: string, input = 'torch-index-url'): string {
  const s = raw.trim();
  let url: URL | undefined;
  try {
    url = new URL(s);
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol) || /\s/.test(s) || !url.hostname) {
    throw new InputError(input, `${shown(s.replace(/\/\/[^/@]*@/, '//***@'))} is not an http(s) URL; accepted: a URL such as https://download.pytorch.org/whl`);
  }
  if (url.username || url.password) {
    throw new InputError(
      input,
      `'${s.replace(/\/\/[^/@]*@/, '//***@')}' holds credentials; they would be stored in the image as the TORCH_INDEX_URL build arg (docker history shows it) and in the plan output. Accepted: a URL without user:password@ (use a pip.conf or netrc build secret for a private index)`,
    );
  }
  return s;
}

/** A Dockerfile stage name, as docker build's --target takes it. */
function parseTarget(raw: string, input = 'target'): string {
  const s = raw.trim();
  if (s && !/^[A-Za-z][A-Za-z0-9_.-]{0,127}$/.test(s)) {
    throw new InputError(input, `${shown(s)} is not a Dockerfile stage name; accepted: a letter, then letters, digits, _ . - (the name after FROM ... AS)`);
  }
  return s;
}

/** Network modes BuildKit offers RUN instructions (docker build and buildx alike). */
const NETWORKS = ['default', 'none', 'host'] as const;

/** The interpreter inside the image: a command name or absolute path, one word. */
function parsePython(raw: string, input = 'python'): string {
  const s = raw.trim() || 'python3';
  if (!/^[A-Za-z0-9_./+][A-Za-z0-9_./+-]{0,255}$/.test(s)) {
    throw new InputError(
      input,
      `${shown(s)} is not an interpreter; accepted: one word, a command name or absolute path such as python3 or /opt/venv/bin/python (no spaces or arguments, not starting with -)`,
    );
  }
  return s;
}

/** The path of the ping endpoint: an absolute URL path (query allowed), no spaces. */
function parsePingPath(raw: string, input = 'ping-path'): string {
  const s = raw.trim() || '/v1/ping';
  if (!s.startsWith('/')) throw new InputError(input, `${shown(s)} must start with /; accepted: a path such as /v1/ping`);
  if (!/^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/.test(s) || s.length > 2048) {
    throw new InputError(
      input,
      `${shown(s)} is not a URL path; accepted: up to 2048 of letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = : @ % / ? (percent-encode the rest)`,
    );
  }
  return s;
}

/** A registry user name: sent as user:password in Basic auth, so no ':' and no spaces. */
function parseUsername(raw: string, input = 'registry-username'): string {
  const s = raw.trim();
  if (/[:\s]/.test(s))
    throw new InputError(input, `${shown(s)} holds a ':' or a space; accepted: a user name as the registry knows it (Basic auth cannot carry a ':' in it)`);
  return s;
}

/** A Python package name (PEP 508). */
function parsePackage(raw: string, input = 'pinned-packages'): string {
  if (!/^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(raw))
    throw new InputError(input, `${shown(raw)} is not a package name; accepted: names such as torch or pyannote.audio`);
  return raw;
}

/** Where the README says what to use instead of BuildKit's attestations, per input. */
const ATTESTATION_ALTERNATIVE: Record<'provenance' | 'sbom', string> = {
  provenance:
    'for provenance, run actions/attest-build-provenance after this step with subject-name set to the image and subject-digest to its digest output (README: Labels, annotations, provenance)',
  sbom: 'for an SBOM, generate one (for example anchore/sbom-action on the pushed image) and attach it with actions/attest-sbom, subject-digest set to the digest output (README: Labels, annotations, provenance)',
};

/**
 * `provenance` and `sbom`, accepted so that a step moved over from docker/build-push-action keeps
 * working: false or empty is what happens anyway. Anything asking for an attestation (true, or a
 * mode such as mode=max, generator=...) is refused: BuildKit would add attestation manifests to
 * the platform image's index (GHCR lists them as unknown/unknown platforms), and they would
 * describe a rebuild rather than the image verified here.
 */
export function parseAttestationInput(raw: string, input: 'provenance' | 'sbom'): false {
  const s = raw.trim().toLowerCase();
  if (s === '' || ['false', 'no', '0', 'off'].includes(s)) return false;
  throw new InputError(
    input,
    `${shown(raw.trim())} asks BuildKit for a ${input === 'sbom' ? 'SBOM' : 'provenance'} attestation; this action pushes the verified platform images without attestation manifests, so the manifest list holds only verified platforms. Accepted: false or empty; ${ATTESTATION_ALTERNATIVE[input]}`,
  );
}

/** merge mode: `linux/amd64=sha256:<64 hex>` or `linux/amd64=ghcr.io/o/w@sha256:<64 hex>`, one per line. */
export function parseDigests(raw: string, input = 'digests'): GivenDigest[] {
  const out: GivenDigest[] = [];
  for (const item of listOf(raw)) {
    const m = /^([^=\s]+)\s*=\s*(?:(\S+)@)?(sha256:[0-9a-f]{64})$/.exec(item);
    if (!m) throw new InputError(input, `${shown(item)} is not PLATFORM=sha256:<64 hex digits> (or PLATFORM=IMAGE@sha256:...)`);
    const platform = parsePlatform(m[1], input).platform;
    if (out.some((d) => d.platform === platform)) throw new InputError(input, `${platform} is given twice; accepted: one digest per platform`);
    out.push({ platform, digest: m[3], ...(m[2] ? { image: m[2] } : {}) });
  }
  return out;
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
  for (const line of raw
    .split(/[\n;]/)
    .map((l) => l.trim())
    .filter(Boolean)) {
    const m = /^([^:\s]+)\s*:\s*(.+)$/.exec(line);
    if (!m) throw new InputError(input, `${shown(line)} is not 'PLATFORM: torch=V torchaudio=V cuda=V|none'`);
    const p = parsePlatform(m[1], input).platform;
    const e: Partial<Expectation> = out[p] ?? {};
    for (const pair of m[2].split(/\s+/)) {
      const kv = /^(torch|torchaudio|cuda)=(\S+)$/.exec(pair);
      if (!kv) throw new InputError(input, `${shown(pair)} in ${shown(line)} is not one of torch=V, torchaudio=V, cuda=V|none`);
      const key = kv[1] as keyof Expectation;
      // Two values for one key would leave only the last: refused, not guessed.
      if (key in e) throw new InputError(input, `${key} is given twice for ${p} (${shown(pair)}); accepted: one value per key and platform`);
      if (key === 'cuda') {
        if (kv[2] !== 'none' && !/^\d+\.\d+$/.test(kv[2]))
          throw new InputError(input, `cuda=${shown(kv[2])} for ${p} is not a CUDA version; accepted: MAJOR.MINOR such as 12.1, or none`);
        e.cuda = kv[2] === 'none' ? null : kv[2];
      } else {
        if (!/^\d[0-9A-Za-z.!+_-]*$/.test(kv[2]))
          throw new InputError(
            input,
            `${key}=${shown(kv[2])} for ${p} is not a version; accepted: the version string torch reports, such as 2.2.2+cu121 or 1.13.0a0`,
          );
        e[key] = kv[2];
      }
    }
    out[p] = e;
  }
  return out;
}

/** `NAME=value` for all platforms, `linux/arm64:NAME=value` for one. Values may contain `=` and `,`. */
export function parseBuildArgs(raw: string, input = 'build-args'): BuildArg[] {
  const out: BuildArg[] = [];
  let total = 0;
  for (const line of raw
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const m = /^(?:([A-Za-z0-9_]+\/[A-Za-z0-9_/]+)\s*:\s*)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new InputError(input, `${shown(line)} is not NAME=value or PLATFORM:NAME=value (one per line)`);
    const arg: BuildArg = { platform: m[1] ? parsePlatform(m[1], input).platform : undefined, name: m[2], value: m[3] };
    const bytes = Buffer.byteLength(`${arg.name}=${arg.value}`);
    if (bytes > MAX_BUILD_ARG_BYTES) {
      throw new InputError(
        input,
        `${arg.name} is ${bytes} bytes; a build arg is at most ${MAX_BUILD_ARG_BYTES} bytes (use a file in the context, or a build secret, for more)`,
      );
    }
    total += bytes;
    if (total > MAX_BUILD_ARGS_BYTES)
      throw new InputError(input, `the build args are over ${MAX_BUILD_ARGS_BYTES} bytes together; accepted: at most ${MAX_BUILD_ARGS_BYTES}`);
    // Given twice for the same platforms, the last would win silently; a platform's own arg over a shared one is the way to differ.
    if (out.some((a) => a.name === arg.name && a.platform === arg.platform)) {
      throw new InputError(
        input,
        `${arg.name} is given twice${arg.platform ? ` for ${arg.platform}` : ''}; accepted: one value per name (PLATFORM:NAME=value overrides a shared NAME=value)`,
      );
    }
    out.push(arg);
  }
  return out;
}

export function readInputs(get: InputSource = actionsInputSource): Inputs {
  for (const [name, shape] of Object.entries(INPUT_SHAPES)) checkText(get(name), name, shape);
  const image = get('image').trim();
  if (!image) throw new InputError('image', 'is required: the image to build without a tag, for example ghcr.io/OWNER/worker');
  parseImage(image);

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
    throw new InputError(
      'python-version',
      `'${pythonVersion}' is a Python no torch wheel is built for; if you meant 3.${pythonVersion.slice(2)}0, quote it ('3.${pythonVersion.slice(2)}0'): YAML reads 3.${pythonVersion.slice(2)}0 as the number ${pythonVersion}`,
    );
  }

  const annotations = parseAnnotations(get('annotations'));
  checkAnnotationPlatforms(
    annotations,
    platforms.map((p) => p.platform),
  );

  const torchVariants = parseVariants(get('torch-variants') || 'linux/amd64=cu121,linux/arm64=cpu');
  for (const p of platforms) {
    if (!torchVariants[p.platform]) {
      throw new InputError('torch-variants', `no variant for ${p.platform}; add ${p.platform}=cpu (or a CUDA variant such as cu121)`);
    }
  }

  const torchIndexUrl = parseIndexUrl(get('torch-index-url').trim() || DEFAULT_INDEX_BASE);

  const context = get('context').trim() || '.';
  const tokenEnv = parseTokenEnv(get('token-env'));
  const pingPath = parsePingPath(get('ping-path'));
  const mode = oneOf(get('mode') || 'all', 'mode', ['all', 'platform', 'merge'] as const);
  const digests = parseDigests(get('digests'));
  if (digests.length && mode !== 'merge') {
    throw new InputError(
      'digests',
      `are for mode 'merge' (they name the platform images to tag), and mode is '${mode}'; accepted: digests with mode: merge, or no digests`,
    );
  }

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
    target: parseTarget(get('target')),
    network: get('network').trim() ? oneOf(get('network'), 'network', NETWORKS) : '',
    tags: parseTagsInput(get('tags'), image),
    labels: parseLabels(get('labels')),
    annotations,
    provenance: parseAttestationInput(get('provenance'), 'provenance'),
    sbom: parseAttestationInput(get('sbom'), 'sbom'),
    tagRules: get('tag-rules'),
    shaLength: int(get('sha-length') || '7', 'sha-length', 4, 40),
    push: autoOr(get('push'), 'push', (s) => bool(s, 'push')),
    dryRun: bool(get('dry-run') || 'false', 'dry-run'),
    buildTime: parseBuildTime(get('build-time')),
    pinLint: oneOf(get('pin-lint') || 'error', 'pin-lint', ['error', 'warn', 'off'] as const),
    pinnedPackages: listOf(get('pinned-packages')).map((n) => parsePackage(n)),
    mode,
    digests,
    registryUsername: parseUsername(get('registry-username')),
    registryPassword: get('registry-password'),
    tokenEnv,
    workerToken: parseWorkerToken(get('worker-token')),
    pingPort: int(get('ping-port') || '8477', 'ping-port', 1, 65535),
    pingPath,
    startupTimeout: int(get('startup-timeout') || '120', 'startup-timeout', 1, 86400),
    gpu: bool(get('gpu') || 'false', 'gpu'),
    python: parsePython(get('python')),
    compressionLevel: int(get('compression-level') || '6', 'compression-level', 1, 9),
    mountFrom: listOf(get('mount-from')).map((ref) => {
      parseImageRef(ref, 'mount-from');
      return ref;
    }),
    checks: parseChecks(get('checks'), { input: 'checks' }),
    sizeBudget: parseSizeBudget(get('size-budget')),
    parallel: autoOr(get('parallel'), 'parallel', (s) => int(s, 'parallel', 1, 16)),
    hygiene: {
      nonRoot: bool(get('non-root') || 'true', 'non-root'),
      modelCache: parseModelCache(get('model-cache')),
      healthcheck: oneOf(get('healthcheck') || 'required', 'healthcheck', ['required', 'optional', 'off'] as const),
      offline: bool(get('offline') || 'true', 'offline'),
      memory: parseMemory(get('memory')) ? get('memory').trim() : '',
    },
    build: readBuildOptions(get),
  };
}

function readBuildOptions(get: InputSource): BuildOptions {
  const o: BuildOptions = {
    secrets: parseSecrets(get('secrets')),
    secretFiles: parseSecretFiles(get('secret-files')),
    ssh: parseSsh(get('ssh')),
    cacheFrom: parseCache(get('cache-from'), 'cache-from'),
    cacheTo: parseCache(get('cache-to'), 'cache-to'),
    pull: bool(get('pull') || 'false', 'pull'),
    noCache: bool(get('no-cache') || 'false', 'no-cache'),
    buildContexts: parseBuildContexts(get('build-contexts')),
    shmSize: parseShmSize(get('shm-size')),
    ulimits: parseUlimits(get('ulimit')),
  };
  checkSecretIds(o);
  return o;
}

/** One image (or variant) to build: its inputs, and how its tags are told apart from its siblings'. */
export interface ImageInputs {
  name: string;
  suffix: string;
  inputs: Inputs;
}

/**
 * The files of a run: how ml-image.yml is read, and the check of each image's context and
 * Dockerfile (main.ts passes the workspace-bound ones of files.ts; unit tests their own).
 */
export interface InputFiles {
  readFile: (p: string) => string;
  checkPaths: (inputs: Inputs) => void;
}

/** Reads and checks within the workspace: regular files of bounded size, no link out. */
export function workspaceFiles(workspace: string): InputFiles {
  return {
    readFile: (p) => readRegularFile(p, inWorkspace('config', workspace)),
    // A merge job builds nothing and reads neither context nor Dockerfile.
    checkPaths: (inputs) => {
      if (inputs.mode === 'merge') return;
      checkBuildPaths(inputs, workspace);
      checkOptionFiles(inputs.build);
    },
  };
}

/**
 * Without `config`, the action's inputs describe one image. With it, every entry of the file is an
 * image; inputs that are set win over the file. (So the config-settable inputs have empty
 * defaults in action.yml: an empty input means "not set", and the defaults live here.)
 * A value the parser refuses is reported at its file, line and key when it came from the file.
 */
export function readImages(
  get: InputSource = actionsInputSource,
  readFile: InputFiles['readFile'] = (p) => fs.readFileSync(p, 'utf8'),
  checkPaths: InputFiles['checkPaths'] = () => undefined,
): ImageInputs[] {
  checkText(get('config'), 'config', INPUT_SHAPES.config);
  const file = get('config').trim();
  const select = listOf(get('select'));
  if (!file) {
    if (select.length) throw new InputError('select', 'picks entries of a config file, and no config is given');
    const inputs = readInputs(get);
    checkPaths(inputs);
    return [{ name: 'default', suffix: '', inputs }];
  }
  let text: string;
  try {
    text = readFile(file);
  } catch (e) {
    if (e instanceof InputError) throw e;
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
      const inputs = readInputs(source);
      checkPaths(inputs);
      return { name: entry.name, suffix: entry.suffix, inputs };
    } catch (e) {
      if (e instanceof InputError && fromFile(e.input)) {
        throw new ConfigError(file, entry.lines[e.input], `${entry.path}.${e.input}`, e.message.replace(/^Input '[^']+': /, ''));
      }
      throw e;
    }
  });
}
