import * as fs from 'fs';
import { InputError, shown } from '../errors';

/**
 * The build options named as docker/build-push-action names them: secrets, ssh, cache,
 * pull, no-cache, build contexts, /dev/shm size and ulimits. Parsed once from the inputs; which
 * builder accepts which is decided in `builderRefusal`, before any build.
 */
export interface BuildOptions {
  /** `secrets`: values the action writes to private temp files for the build. */
  secrets: { id: string; value: string }[];
  /** `secret-files`: files of the runner, passed as they are. */
  secretFiles: { id: string; path: string }[];
  /** `ssh`: an agent socket or keys per id; no paths means the agent of SSH_AUTH_SOCK. */
  ssh: { id: string; paths: string[] }[];
  cacheFrom: CacheSpec[];
  cacheTo: CacheSpec[];
  pull: boolean;
  noCache: boolean;
  buildContexts: { name: string; value: string }[];
  /** '' when not set. */
  shmSize: string;
  ulimits: { name: string; soft: number; hard: number }[];
}

/** One cache import or export: its type and its other `key=value` attributes, in the order given. */
export interface CacheSpec {
  type: string;
  attrs: [string, string][];
}

export const NO_BUILD_OPTIONS: BuildOptions = {
  secrets: [],
  secretFiles: [],
  ssh: [],
  cacheFrom: [],
  cacheTo: [],
  pull: false,
  noCache: false,
  buildContexts: [],
  shmSize: '',
  ulimits: [],
};

/** BuildKit refuses a secret over 500 KiB (its session's limit), after the build has started: refused here first. */
export const MAX_SECRET_BYTES = 500 * 1024;

/** What BuildKit takes as a secret or ssh id (it becomes a file name under /run/secrets). */
const ID_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** The non-empty lines of a list input, trimmed (these inputs are one item per line, as in build-push-action). */
const lines = (raw: string) =>
  raw
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/**
 * `secrets`: `ID=VALUE` per line; the value is what follows the first `=` (it may hold `=`). A
 * newline ends the value. No message shows a value: errors name the line by its number and id.
 */
export function parseSecrets(raw: string, input = 'secrets'): BuildOptions['secrets'] {
  const out: BuildOptions['secrets'] = [];
  raw.split('\n').forEach((line, i) => {
    // Only the line's ends are trimmed of \r (CRLF): spaces inside or around a value are the value's.
    const l = line.replace(/\r$/, '');
    if (!l.trim()) return;
    const at = l.indexOf('=');
    const id = at < 0 ? '' : l.slice(0, at).trim();
    if (at < 0 || !ID_RE.test(id)) {
      throw new InputError(
        input,
        `line ${i + 1} (not shown) is not ID=VALUE; accepted: one secret per line, an id of letters, digits and _ . - (up to 128), then =, then the value`,
      );
    }
    const value = l.slice(at + 1);
    if (!value)
      throw new InputError(
        input,
        `${id} has an empty value (an unset repository secret expands to nothing); accepted: ${id}=VALUE with the value on the same line`,
      );
    if (Buffer.byteLength(value) > MAX_SECRET_BYTES)
      throw new InputError(input, `${id} is ${Buffer.byteLength(value)} bytes; BuildKit takes at most ${MAX_SECRET_BYTES} bytes per secret`);
    out.push({ id, value });
  });
  return out;
}

/** `secret-files`: `ID=PATH` per line. The file itself is checked by `checkOptionFiles` (a unit test has none). */
export function parseSecretFiles(raw: string, input = 'secret-files'): BuildOptions['secretFiles'] {
  return lines(raw).map((l) => {
    const m = /^([^=\s]+)\s*=\s*(.+)$/.exec(l);
    if (!m || !ID_RE.test(m[1]))
      throw new InputError(input, `${shown(l)} is not ID=PATH; accepted: one per line, an id of letters, digits and _ . - then = and the file's path`);
    return { id: m[1], path: plainPath(m[2], input, m[1]) };
  });
}

/** A path that goes into `--secret`/`--ssh` as it is: both are read as CSV, so a comma or quote would split or quote it. */
function plainPath(p: string, input: string, id: string): string {
  if (/[,"]/.test(p))
    throw new InputError(
      input,
      `${id}: the path ${shown(p)} holds a comma or a double quote, which docker reads as a separator; accepted: a path without them`,
    );
  return p;
}

/** `ssh`: `default`, `ID`, or `ID=PATH[,PATH...]` (an agent socket or key files) per line, as buildx takes it. */
export function parseSsh(raw: string, input = 'ssh'): BuildOptions['ssh'] {
  const out: BuildOptions['ssh'] = [];
  for (const l of lines(raw)) {
    const m = /^([^=\s]+)\s*(?:=\s*(.*))?$/.exec(l);
    if (!m || !ID_RE.test(m[1]))
      throw new InputError(input, `${shown(l)} is not default, ID or ID=PATH; accepted: one per line, such as default=\${{ env.SSH_AUTH_SOCK }}`);
    if (m[2] !== undefined && m[2].trim() === '') {
      throw new InputError(
        input,
        `${m[1]}= has no path (was the variable it came from, such as SSH_AUTH_SOCK, unset?); accepted: ${m[1]} alone for the agent of SSH_AUTH_SOCK, or ${m[1]}=PATH of an agent socket or key file`,
      );
    }
    const paths = m[2] === undefined ? [] : m[2].split(',').map((p) => plainPath(p.trim(), input, m[1]));
    if (paths.some((p) => !p)) throw new InputError(input, `${shown(l)} holds an empty path; accepted: ID=PATH[,PATH]`);
    if (out.some((s) => s.id === m[1])) throw new InputError(input, `${m[1]} is given twice; accepted: one line per id`);
    out.push({ id: m[1], paths });
  }
  return out;
}

/** Cache types buildx knows, and the attribute each needs. */
const CACHE_TYPES: Record<string, string | undefined> = {
  registry: 'ref',
  local: undefined,
  gha: undefined,
  inline: undefined,
  s3: undefined,
  azblob: undefined,
};

/**
 * Attributes that carry credentials: in `--cache-to` they would be printed with the build
 * command. The runner's environment gives them (ACTIONS_RUNTIME_TOKEN for gha, AWS_* for s3, the
 * Azure connection string for azblob), and buildx reads them from there.
 */
const CREDENTIAL_ATTRS = ['token', 'secret_access_key', 'session_token', 'access_key_id', 'account_key'];

/**
 * Splits one buildx option list (`type=gha,scope=x`) into its fields. Hand-written: buildx reads
 * these with Go's CSV reader, and the project has no CSV package; only the part used here is
 * needed: commas separate, a field may be double-quoted, "" inside quotes is one quote.
 */
export function csvFields(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === '') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (quoted) throw new Error('a double quote is not closed');
  out.push(cur);
  return out.map((f) => f.trim());
}

/**
 * `cache-from` / `cache-to`: one cache per line in buildx's syntax (`type=gha,mode=max`,
 * `type=registry,ref=ghcr.io/o/w:buildcache`); a line without `=` is a registry ref.
 */
export function parseCache(raw: string, input: 'cache-from' | 'cache-to'): CacheSpec[] {
  return lines(raw).map((l) => {
    if (!l.includes('=')) {
      if (/\s/.test(l))
        throw new InputError(
          input,
          `${shown(l)} is neither an image ref nor type=...; accepted: such as type=gha or type=registry,ref=ghcr.io/OWNER/worker:buildcache`,
        );
      return { type: 'registry', attrs: [['ref', l]] };
    }
    let fields: string[];
    try {
      fields = csvFields(l);
    } catch (e) {
      throw new InputError(input, `${shown(l)}: ${(e as Error).message}`);
    }
    let type = '';
    const attrs: [string, string][] = [];
    for (const f of fields) {
      const m = /^([a-z][a-z0-9_-]*)=(.*)$/.exec(f);
      if (!m) throw new InputError(input, `${shown(f)} in ${shown(l)} is not key=value; accepted: type=TYPE followed by ,key=value attributes`);
      if (m[1] === 'type') type = m[2];
      else if (CREDENTIAL_ATTRS.includes(m[1])) {
        throw new InputError(
          input,
          `${m[1]}= is a credential and the build command is printed in the log; accepted: the cache without it (buildx reads it from the runner's environment)`,
        );
      } else if (attrs.some(([k]) => k === m[1])) throw new InputError(input, `${m[1]} is given twice in ${shown(l)}`);
      else attrs.push([m[1], m[2]]);
    }
    if (!(type in CACHE_TYPES))
      throw new InputError(input, `${shown(l)}: type ${shown(type)} is not a cache type; accepted: ${Object.keys(CACHE_TYPES).join(', ')}`);
    const need = type === 'local' ? (input === 'cache-from' ? 'src' : 'dest') : CACHE_TYPES[type];
    if (need && !attrs.some(([k, v]) => k === need && v)) throw new InputError(input, `${shown(l)}: type=${type} needs ${need}=...`);
    const mode = attrs.find(([k]) => k === 'mode')?.[1];
    if (mode !== undefined && !['min', 'max'].includes(mode))
      throw new InputError(input, `${shown(l)}: mode=${shown(mode)} is not accepted; accepted: min, max`);
    const ignore = attrs.find(([k]) => k === 'ignore-error')?.[1];
    if (ignore !== undefined && !['true', 'false'].includes(ignore))
      throw new InputError(input, `${shown(l)}: ignore-error=${shown(ignore)} is not accepted; accepted: true, false`);
    return { type, attrs };
  });
}

/** `build-contexts`: `NAME=VALUE` per line (a directory, docker-image://REF, a URL, target:STAGE). */
export function parseBuildContexts(raw: string, input = 'build-contexts'): BuildOptions['buildContexts'] {
  const out: BuildOptions['buildContexts'] = [];
  for (const l of lines(raw)) {
    const m = /^([A-Za-z0-9][A-Za-z0-9_./:@-]*)=(\S+)$/.exec(l);
    if (!m) throw new InputError(input, `${shown(l)} is not NAME=VALUE; accepted: one per line, such as alpine=docker-image://alpine:3.20 or src=../shared`);
    if (out.some((c) => c.name === m[1])) throw new InputError(input, `${m[1]} is given twice; accepted: one line per name`);
    out.push({ name: m[1], value: m[2] });
  }
  return out;
}

/** `shm-size`: a docker size such as 2g or 512m (b, k, m, g; bytes without a unit). */
export function parseShmSize(raw: string, input = 'shm-size'): string {
  const s = raw.trim();
  if (!s) return '';
  const m = /^(\d+)([bkmg]?)$/i.exec(s);
  if (!m || Number(m[1]) === 0)
    throw new InputError(input, `${shown(s)} is not a size; accepted: a whole number above 0 with b, k, m or g, such as 2g or 512m`);
  return s.toLowerCase();
}

/** The limits `--ulimit` knows (docker's names, as ulimit(1) calls them without RLIMIT_). */
const ULIMITS = ['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'];

/** `ulimit`: `NAME=SOFT[:HARD]` per line, -1 for unlimited; without HARD it equals SOFT, as docker does. */
export function parseUlimits(raw: string, input = 'ulimit'): BuildOptions['ulimits'] {
  const out: BuildOptions['ulimits'] = [];
  for (const l of lines(raw)) {
    const m = /^([a-z]+)\s*=\s*(-1|\d+)(?::(-1|\d+))?$/.exec(l);
    if (!m || !ULIMITS.includes(m[1]))
      throw new InputError(
        input,
        `${shown(l)} is not NAME=SOFT[:HARD]; accepted: one per line, such as nofile=1024:1024, with NAME one of ${ULIMITS.join(', ')}`,
      );
    const soft = Number(m[2]);
    const hard = m[3] === undefined ? soft : Number(m[3]);
    const unlimited = (n: number) => (n === -1 ? Infinity : n);
    if (unlimited(soft) > unlimited(hard)) throw new InputError(input, `${shown(l)}: the soft limit ${soft} is above the hard limit ${hard}`);
    if (out.some((u) => u.name === m[1])) throw new InputError(input, `${m[1]} is given twice; accepted: one line per limit`);
    out.push({ name: m[1], soft, hard });
  }
  return out;
}

/** A secret id may come from `secrets` or `secret-files`, once. */
export function checkSecretIds(o: Pick<BuildOptions, 'secrets' | 'secretFiles'>): void {
  const seen = new Set<string>();
  for (const [input, id] of [...o.secrets.map((s) => ['secrets', s.id]), ...o.secretFiles.map((s) => ['secret-files', s.id])]) {
    if (seen.has(id)) throw new InputError(input, `the secret id ${id} is given twice (in secrets or secret-files); accepted: each id once`);
    seen.add(id);
  }
}

/**
 * The files the options name, before any build. A secret file must be a regular, readable file
 * of at most MAX_SECRET_BYTES (links followed: a link to /dev/zero or a directory is refused). It
 * may lie outside the workspace: secret files are usually written to RUNNER_TEMP by an earlier
 * step, and the file's content goes to BuildKit only, never into the context. An ssh path must
 * exist (an agent socket or key file); `ID` alone needs SSH_AUTH_SOCK.
 */
export function checkOptionFiles(o: BuildOptions, env: NodeJS.ProcessEnv = process.env): void {
  for (const f of o.secretFiles) {
    let st: fs.Stats;
    try {
      st = fs.statSync(f.path);
      fs.accessSync(f.path, fs.constants.R_OK);
    } catch (e) {
      throw new InputError(
        'secret-files',
        `${f.id}: ${shown(f.path)} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); accepted: a readable regular file`,
      );
    }
    if (!st.isFile())
      throw new InputError(
        'secret-files',
        `${f.id}: ${shown(f.path)} is not a regular file (${st.isDirectory() ? 'a directory' : 'a device, socket or FIFO'}); accepted: a readable regular file`,
      );
    if (st.size > MAX_SECRET_BYTES)
      throw new InputError('secret-files', `${f.id}: ${shown(f.path)} is ${st.size} bytes; BuildKit takes at most ${MAX_SECRET_BYTES} bytes per secret`);
  }
  for (const s of o.ssh) {
    if (s.paths.length === 0 && !env.SSH_AUTH_SOCK) {
      throw new InputError(
        'ssh',
        `${s.id} names no socket and SSH_AUTH_SOCK is not set; accepted: start an agent in an earlier step (such as webfactory/ssh-agent), or ${s.id}=PATH of a socket or key file`,
      );
    }
    for (const p of s.paths) {
      if (!fs.existsSync(p)) throw new InputError('ssh', `${s.id}: ${shown(p)} does not exist; accepted: the path of an agent socket or key file`);
    }
  }
}

const attr = (c: CacheSpec, k: string) => c.attrs.find(([key]) => key === k)?.[1];

/**
 * The builder the run found, and what it cannot do with the options given: an InputError naming
 * the input, raised before any build. Without buildx the engine's BuildKit (`docker build`) reads
 * secrets and ssh, and a cache only from image refs (`--cache-from`) or inline in the image; it
 * takes `--shm-size` and `--ulimit` but does not apply them to RUN (Docker 20.10: /dev/shm stays
 * 64 MiB), and has no build contexts. buildx's `docker` driver cannot export a cache.
 */
export function builderRefusal(o: BuildOptions, buildx: boolean, driver: string): InputError | undefined {
  if (!buildx) {
    const builder = 'the engine BuildKit (docker build; the buildx plugin is not installed)';
    const add = 'add docker/setup-buildx-action before this step';
    if (o.buildContexts.length)
      return new InputError('build-contexts', `named contexts need buildx, and this run builds with ${builder}; ${add}, or remove build-contexts`);
    if (o.shmSize)
      return new InputError('shm-size', `${builder} accepts --shm-size but does not apply it to RUN (/dev/shm stays 64 MiB); ${add}, or remove shm-size`);
    if (o.ulimits.length) return new InputError('ulimit', `${builder} accepts --ulimit but does not apply it to RUN; ${add}, or remove ulimit`);
    const from = o.cacheFrom.find((c) => c.type !== 'registry');
    if (from)
      return new InputError(
        'cache-from',
        `type=${from.type} needs buildx, and this run builds with ${builder}, which reads a cache only from image refs (type=registry, or a bare ref); ${add}`,
      );
    const to = o.cacheTo.find((c) => c.type !== 'inline');
    if (to)
      return new InputError(
        'cache-to',
        `type=${to.type} needs buildx, and this run builds with ${builder}, which can only keep the cache inline in the image (type=inline); ${add}`,
      );
    return undefined;
  }
  const to = o.cacheTo.find((c) => c.type !== 'inline');
  if (to && driver === 'docker') {
    return new InputError(
      'cache-to',
      `type=${to.type}: the buildx builder uses the docker driver, which cannot export a cache; use docker/setup-buildx-action (its docker-container builder), or type=inline`,
    );
  }
  return undefined;
}

/**
 * One cache line for one image and platform. Unless the user scoped it, each platform of each
 * image gets its own cache, so arm64 never evicts amd64's: gha gets `scope=KEY`; a registry ref
 * gets `-KEY` after its tag (`:buildcache` when it has none; a digest ref is read as it is); a
 * local directory gets `-KEY` after its path. An export gets `ignore-error=true` unless given: a
 * cache that cannot be written must not fail a verified build. Other types pass as given.
 */
export function scopedCache(c: CacheSpec, key: string, direction: 'from' | 'to'): CacheSpec {
  const attrs = c.attrs.map(([k, v]): [string, string] => {
    if (c.type === 'registry' && k === 'ref' && !v.includes('@')) {
      const slash = v.lastIndexOf('/');
      const colon = v.lastIndexOf(':');
      return [k, colon > slash ? `${v}-${key}` : `${v}:buildcache-${key}`];
    }
    if (c.type === 'local' && (k === 'src' || k === 'dest')) return [k, `${v.replace(/\/+$/, '')}-${key}`];
    return [k, v];
  });
  if (c.type === 'gha' && !attr(c, 'scope')) attrs.push(['scope', key]);
  if (direction === 'to' && c.type !== 'inline' && !attr(c, 'ignore-error')) attrs.push(['ignore-error', 'true']);
  return { type: c.type, attrs };
}

/** A cache line as buildx reads it; a field holding a comma or quote is quoted. */
export function cacheCsv(c: CacheSpec): string {
  const q = (f: string) => (/[",]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f);
  return [`type=${c.type}`, ...c.attrs.map(([k, v]) => `${k}=${v}`)].map(q).join(',');
}
