import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { ConfigError } from '../config';
import { InputError, messageOf, scalarText } from '../errors';
import type { Finding } from './contract';

/*
 * User-declared checks: extra probes run against the verified container, declared in ml-image.yml
 * (`checks:`) or in the `checks` input (the same list as YAML text). Parsed with the `yaml`
 * package's document API because it keeps positions: a file's errors point at their line.
 *
 * Probe timing follows Kubernetes' probe fields and defaults (kubernetes.io, "Configure Liveness,
 * Readiness and Startup Probes" > "Configure Probes"):
 *   initialDelaySeconds  seconds after the container started before the first attempt; default 0, min 0
 *   periodSeconds        how often to attempt; default 10, min 1
 *   timeoutSeconds       an attempt that has not answered by then has failed; default 1, min 1
 *   successThreshold     consecutive successes for the check to pass; default 1, min 1
 *                        (Kubernetes requires 1 for liveness/startup probes; these checks gate a
 *                        publish like a readiness probe, so more is allowed)
 *   failureThreshold     consecutive failures for the check to fail; default 3, min 1
 * Where this differs from the kubelet, on purpose:
 *   - the first attempt is made exactly at initialDelaySeconds: the kubelet adds a random jitter of
 *     up to periodSeconds (hence the docs' remark that initialDelaySeconds shorter than the period
 *     can look ignored); a build wants the same timeline every run;
 *   - the kubelet probes forever. With successThreshold > 1 a flapping check could reach neither
 *     threshold, so after FLAP_FACTOR x (successThreshold + failureThreshold) attempts it fails.
 * Attempts start on a fixed tick (start + k x periodSeconds); an attempt that overruns its tick
 * skips the ticks it missed, as Go's time.Ticker (which the kubelet uses) drops them.
 * Success is an exit code / HTTP status and optional output patterns, not the kubelet's
 * "exit 0" / "200-399": the user says what success is, defaulting to exit code 0 / status 200.
 */

export interface ProbeTimings {
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
}

export const PROBE_DEFAULTS: ProbeTimings = { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 };
export const FLAP_FACTOR = 3;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** One `json:` entry: the value at `path` must equal `value` as JSON (the string "true" is not true). */
export interface JsonExpectation {
  path: string;
  segments: (string | number)[];
  value: JsonValue;
}

export interface ExecExpect {
  exitCode: number;
  stdout?: RegExp;
  /** stdout parsed as JSON. */
  json: JsonExpectation[];
}

export interface HttpExpect {
  status: number;
  body?: RegExp;
  json: JsonExpectation[];
}

interface CheckBase extends ProbeTimings {
  name: string;
}

export interface ExecCheck extends CheckBase {
  kind: 'exec';
  /** Run in the container (`docker exec`). A string check is `['sh', '-c', string]`. */
  argv: string[];
  /** Alternatives: an attempt succeeds when any one holds. */
  expect: ExecExpect[];
}

export interface HttpCheck extends CheckBase {
  kind: 'http';
  method: 'GET' | 'POST';
  path: string;
  /** Values may hold ${WORKER_TOKEN}, replaced only when the request is made. */
  headers: Record<string, string>;
  body?: string;
  expect: HttpExpect[];
}

export type DeclaredCheck = ExecCheck | HttpCheck;

/** Where the text came from: an action input, or a file (with the line `text` starts at and the key it sits under). */
export type ChecksSource = { input: string } | { file: string; line?: number; key?: string };

export const TOKEN_PLACEHOLDER = '${WORKER_TOKEN}';

const CHECK_KEYS = ['name', 'exec', 'http', 'expect', ...Object.keys(PROBE_DEFAULTS)];
const HTTP_KEYS = ['path', 'method', 'headers', 'body'];
const EXEC_EXPECT_KEYS = ['exitCode', 'stdout', 'json'];
const HTTP_EXPECT_KEYS = ['status', 'body', 'json'];
const METHODS = ['GET', 'POST'] as const;
/** Whole seconds, as Kubernetes; a day at most, as the startup-timeout input. */
const TIMING_LIMITS: Record<keyof ProbeTimings, [number, number]> = {
  initialDelaySeconds: [0, 86400],
  periodSeconds: [1, 86400],
  timeoutSeconds: [1, 86400],
  successThreshold: [1, 1000],
  failureThreshold: [1, 1000],
};

// ---------------------------------------------------------------------------------------------
// JSON paths

/**
 * The path syntax of `json:` keys, kept tiny: dot-separated names, `[N]` for an array index and
 * `["any key"]` (a JSON string) for keys that are not plain names.
 *   status   gpu.name   devices[0].memory   models["large-v3"].loaded   ["a.b"]
 * A plain name is letters, digits, `_`, `$` and `-`, not starting with a digit or `-`.
 * Hand-written: JSONPath and JMESPath libraries bring filters and wildcards a check never needs.
 */
export function parseJsonPath(path: string): (string | number)[] | undefined {
  const out: (string | number)[] = [];
  let i = 0;
  const name = /^[A-Za-z_$][A-Za-z0-9_$-]*/;
  while (i < path.length) {
    const rest = path.slice(i);
    if (rest[0] === '[') {
      const idx = /^\[(0|[1-9][0-9]*)\]/.exec(rest);
      const quoted = /^\[("(?:[^"\\]|\\.)*")\]/.exec(rest);
      if (idx) {
        out.push(Number(idx[1]));
        i += idx[0].length;
      } else if (quoted) {
        try {
          out.push(JSON.parse(quoted[1]) as string);
        } catch {
          return undefined;
        }
        i += quoted[0].length;
      } else {
        return undefined;
      }
    } else {
      if (out.length > 0) {
        if (rest[0] !== '.') return undefined;
        i++;
      }
      const m = name.exec(path.slice(i));
      if (!m) return undefined;
      out.push(m[0]);
      i += m[0].length;
    }
  }
  return out.length > 0 ? out : undefined;
}

/** The value at a parsed path, or `found: false` (a missing key is not null). */
export function lookupJson(value: unknown, segments: (string | number)[]): { found: boolean; value?: unknown } {
  let cur = value;
  for (const seg of segments) {
    if (typeof seg === 'number') {
      if (!Array.isArray(cur) || seg >= cur.length) return { found: false };
      cur = cur[seg];
    } else {
      if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.prototype.hasOwnProperty.call(cur, seg)) return { found: false };
      cur = (cur as Record<string, unknown>)[seg];
    }
  }
  return { found: true, value: cur };
}

/** Equality of JSON values: same types, arrays in order, objects with the same keys in any order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

// ---------------------------------------------------------------------------------------------
// Parsing

type Path = (string | number)[];

const show = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));

/**
 * The `checks` list from YAML text. Empty text (or only comments) is no checks. Every refusal
 * names the input (or file:line), the check (index and name), the key, the value and what is
 * accepted.
 */
export function parseChecks(text: string, where: ChecksSource): DeclaredCheck[] {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const lineAt = (node: YamlNode | null | undefined): number | undefined => (node?.range ? lc.linePos(node.range[0]).line : undefined);
  const prefix = 'file' in where ? (where.key ?? 'checks') : 'checks';
  let names: (string | undefined)[] = [];

  type Fail = (node: YamlNode | null | undefined, path: Path, msg: string, line?: number) => never;
  const fail: Fail = (node, path, msg, line = lineAt(node)) => {
    const index = typeof path[0] === 'number' ? path[0] : undefined;
    const key = path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
    const named = index !== undefined && names[index] !== undefined ? ` ('${names[index]}')` : '';
    const at = index !== undefined ? `${prefix}${key.replace(/^\[\d+\]/, (m) => `${m}${named}`)}` : key ? `${prefix}.${key}` : prefix;
    if ('file' in where) throw new ConfigError(where.file, line === undefined ? undefined : line + (where.line ?? 1) - 1, at, msg);
    throw new InputError(where.input, `${at}: ${msg}`);
  };

  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = lc.linePos(e.pos[0]).line;
    const msg = e.message.split('\n')[0];
    if ('file' in where) fail(null, [], `not valid YAML: ${msg}`, line);
    fail(null, [], `not valid YAML${line ? ` (line ${line} of the input)` : ''}: ${msg}`);
  }
  const resolve = (n: unknown): YamlNode | null => (isAlias(n) ? (n.resolve(doc) ?? null) : (n as YamlNode | null));
  const root = resolve(doc.contents);
  if (root === null || (isScalar(root) && root.value === null)) return [];
  if (!isSeq(root)) return fail(root, [], 'must be a list of checks, each with a name and exec or http');

  /** The pairs of a map node as key -> {key node, value node}, refusing keys not in `accepted`. */
  const entries = (node: YamlNode | null, path: Path, accepted: string[], what: string): Map<string, { k: YamlNode; v: YamlNode | null }> => {
    if (!isMap(node)) return fail(node, path, `must be a map (${what}); got ${describe(node)}`);
    const out = new Map<string, { k: YamlNode; v: YamlNode | null }>();
    for (const pair of node.items) {
      const k = resolve(pair.key);
      const key = isScalar(k) ? String(k.value) : undefined;
      if (key === undefined || !accepted.includes(key)) {
        return fail(k, path, `unknown key ${key === undefined ? describe(k) : `'${key}'`}; accepted: ${accepted.join(', ')}`);
      }
      out.set(key, { k: k as YamlNode, v: resolve(pair.value) });
    }
    return out;
  };
  const str = (node: YamlNode | null, path: Path, what: string): string => {
    if (!isScalar(node) || typeof node.value !== 'string') return fail(node, path, `must be ${what}; got ${describe(node)}`);
    return node.value;
  };
  const int = (node: YamlNode | null, path: Path, min: number, max: number): number => {
    const v = isScalar(node) ? node.value : undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      return fail(node, path, `${describe(node)} is not accepted; accepted: a whole number from ${min} to ${max}`);
    }
    return v;
  };
  const regex = (node: YamlNode | null, path: Path): RegExp => {
    const source = str(node, path, 'a regular expression (a string)');
    try {
      // `m`: ^ and $ match at line ends, as output is lines.
      return new RegExp(source, 'm');
    } catch (e) {
      return fail(
        node,
        path,
        `${show(source)} is not a regular expression (${messageOf(e).replace(/^Invalid regular expression: \/.*\/m: /, '')}); accepted: a JavaScript regular expression, e.g. 'large-v3.*\\.pt$'`,
      );
    }
  };
  const jsonExpectations = (node: YamlNode | null, path: Path): JsonExpectation[] => {
    if (!isMap(node)) return fail(node, path, `must map JSON paths to values, e.g. {diarization: true, "devices[0].name": cuda}; got ${describe(node)}`);
    const out: JsonExpectation[] = [];
    for (const pair of node.items) {
      const k = resolve(pair.key);
      const key = isScalar(k) ? String(k.value) : '';
      const segments = parseJsonPath(key);
      if (!segments)
        return fail(
          k,
          [...path, key],
          `${show(key)} is not a JSON path; accepted: names joined by dots, [N] for an array index, ["key"] for other keys, e.g. a.b[0].c`,
        );
      const v = resolve(pair.value);
      out.push({ path: key, segments, value: v === null ? null : (v.toJS(doc) as JsonValue) });
    }
    return out;
  };
  const argvItem = (node: YamlNode | null, path: Path): string => {
    // A plain scalar is the text as written: `sleep 1.10` is not `sleep 1.1`.
    if (isScalar(node) && node.value !== null && node.type === 'PLAIN' && node.source !== undefined) return node.source;
    return str(node, path, 'a string');
  };
  const expectations = <T>(node: YamlNode | null, path: Path, one: (n: YamlNode | null, p: Path) => T, accepted: string[]): T[] => {
    if (node === null) return [one(null, path)];
    if (isSeq(node)) {
      if (node.items.length === 0) return fail(node, path, 'must be a map, or a non-empty list of maps of which one must hold');
      return node.items.map((n, i) => one(resolve(n), [...path, i]));
    }
    if (!isMap(node))
      return fail(node, path, `must be a map with ${accepted.join(', ')} (or a list of such maps of which one must hold); got ${describe(node)}`);
    return [one(node, path)];
  };

  const checks: DeclaredCheck[] = [];
  names = root.items.map((n) => {
    const r = resolve(n);
    const v = isMap(r) ? resolve(r.get('name', true)) : null;
    return isScalar(v) && typeof v.value === 'string' && v.value.trim() ? v.value.trim() : undefined;
  });
  const seen = new Map<string, number>();
  root.items.forEach((raw, i) => {
    const node = resolve(raw);
    const keys = entries(node, [i], CHECK_KEYS, 'a check');
    const name = keys.get('name');
    if (!name) return fail(node, [i], 'has no name; every check needs a name, used in its findings');
    const n = str(name.v, [i, 'name'], 'a non-empty string').trim();
    if (!n) fail(name.v, [i, 'name'], 'must be a non-empty string');
    if (seen.has(n)) fail(name.v, [i, 'name'], `'${n}' is also the name of ${prefix}[${seen.get(n)}]; names must be unique`);
    seen.set(n, i);

    const timings = { ...PROBE_DEFAULTS };
    for (const k of Object.keys(PROBE_DEFAULTS) as (keyof ProbeTimings)[]) {
      const e = keys.get(k);
      if (e) timings[k] = int(e.v, [i, k], ...TIMING_LIMITS[k]);
    }
    const exec = keys.get('exec');
    const http = keys.get('http');
    if (!!exec === !!http) {
      return fail(
        node,
        [i],
        exec
          ? 'has both exec and http; accepted: one of them per check'
          : 'has neither exec nor http; accepted: exec (a command run in the container) or http (a request to the worker)',
      );
    }
    const expect = keys.get('expect')?.v ?? null;
    if (exec) {
      let argv: string[];
      if (isSeq(exec.v)) {
        argv = exec.v.items.map((x, j) => argvItem(resolve(x), [i, 'exec', j]));
        if (argv.length === 0 || !argv[0]) fail(exec.v, [i, 'exec'], 'must not be empty; accepted: [program, args...] or a string run by sh -c');
      } else {
        const s = isScalar(exec.v) && typeof exec.v.value === 'string' ? exec.v.value : '';
        if (!s.trim()) fail(exec.v, [i, 'exec'], `${describe(exec.v)} is not accepted; accepted: [program, args...] or a non-empty string run by sh -c`);
        argv = ['sh', '-c', s];
      }
      const one = (n: YamlNode | null, p: Path): ExecExpect => {
        const e =
          n === null
            ? new Map<string, { k: YamlNode; v: YamlNode | null }>()
            : entries(n, p, EXEC_EXPECT_KEYS, `an exec check's expectation: ${EXEC_EXPECT_KEYS.join(', ')}`);
        const out: ExecExpect = { exitCode: 0, json: [] };
        if (e.has('exitCode')) out.exitCode = int(e.get('exitCode')!.v, [...p, 'exitCode'], 0, 255);
        if (e.has('stdout')) out.stdout = regex(e.get('stdout')!.v, [...p, 'stdout']);
        if (e.has('json')) out.json = jsonExpectations(e.get('json')!.v, [...p, 'json']);
        return out;
      };
      checks.push({ kind: 'exec', name: n, argv, expect: expectations(expect, [i, 'expect'], one, EXEC_EXPECT_KEYS), ...timings });
    } else {
      const h = entries(http!.v, [i, 'http'], HTTP_KEYS, `the request: ${HTTP_KEYS.join(', ')}`);
      if (!h.has('path')) fail(http!.v, [i, 'http'], 'has no path; accepted: a path starting with /, e.g. /v1/ping');
      const path = str(h.get('path')!.v, [i, 'http', 'path'], 'a path starting with /');
      if (!path.startsWith('/') || /\s/.test(path))
        fail(h.get('path')!.v, [i, 'http', 'path'], `${show(path)} is not accepted; accepted: a path starting with / and without spaces, e.g. /v1/ping`);
      let method: 'GET' | 'POST' = 'GET';
      if (h.has('method')) {
        const m = str(h.get('method')!.v, [i, 'http', 'method'], `one of ${METHODS.join(', ')}`);
        if (!(METHODS as readonly string[]).includes(m.toUpperCase()))
          fail(h.get('method')!.v, [i, 'http', 'method'], `${show(m)} is not accepted; accepted: ${METHODS.join(', ')}`);
        method = m.toUpperCase() as 'GET' | 'POST';
      }
      const headers: Record<string, string> = {};
      if (h.has('headers')) {
        const hn = h.get('headers')!.v;
        if (!isMap(hn))
          fail(hn, [i, 'http', 'headers'], `must map header names to values, e.g. {Authorization: "Bearer ${TOKEN_PLACEHOLDER}"}; got ${describe(hn)}`);
        for (const pair of hn.items) {
          const k = resolve(pair.key);
          const name = isScalar(k) ? String(k.value) : '';
          const at: Path = [i, 'http', 'headers', name];
          if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) fail(k, at, `${show(name)} is not an HTTP header name`);
          const v = resolve(pair.value);
          if (!isScalar(v) || v.value === null || typeof v.value === 'object') fail(v, at, `must be a single value; got ${describe(v)}`);
          const value = scalarText(v.value);
          if (/[\r\n]/.test(value)) fail(v, at, 'must be one line');
          placeholders(value, (msg) => fail(v, at, msg));
          headers[name] = value;
        }
      }
      let body: string | undefined;
      if (h.has('body')) {
        const bn = h.get('body')!.v;
        if (method !== 'POST') fail(bn, [i, 'http', 'body'], `a ${method} request has no body; accepted: method: POST with a body`);
        if (isScalar(bn) && typeof bn.value === 'string') {
          body = bn.value;
        } else if (isMap(bn) || isSeq(bn)) {
          // A map or list is sent as JSON.
          body = JSON.stringify(bn.toJS(doc));
          if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
        } else {
          fail(bn, [i, 'http', 'body'], `must be a string, or a map or list sent as JSON; got ${describe(bn)}`);
        }
        placeholders(body, (msg) => fail(bn, [i, 'http', 'body'], msg));
      }
      const one = (n: YamlNode | null, p: Path): HttpExpect => {
        const e =
          n === null
            ? new Map<string, { k: YamlNode; v: YamlNode | null }>()
            : entries(n, p, HTTP_EXPECT_KEYS, `an http check's expectation: ${HTTP_EXPECT_KEYS.join(', ')}`);
        const out: HttpExpect = { status: 200, json: [] };
        if (e.has('status')) out.status = int(e.get('status')!.v, [...p, 'status'], 100, 599);
        if (e.has('body')) out.body = regex(e.get('body')!.v, [...p, 'body']);
        if (e.has('json')) out.json = jsonExpectations(e.get('json')!.v, [...p, 'json']);
        return out;
      };
      checks.push({
        kind: 'http',
        name: n,
        method,
        path,
        headers,
        ...(body !== undefined ? { body } : {}),
        expect: expectations(expect, [i, 'expect'], one, HTTP_EXPECT_KEYS),
        ...timings,
      });
    }
  });
  return checks;
}

/** ${WORKER_TOKEN} is the only placeholder: any other ${...} would otherwise be sent as written. */
function placeholders(value: string, fail: (msg: string) => never): void {
  for (const m of value.matchAll(/\$\{([^}]*)\}?/g)) {
    if (m[0] !== TOKEN_PLACEHOLDER) fail(`${show(m[0])} is not a placeholder here; accepted: ${TOKEN_PLACEHOLDER}`);
  }
}

function describe(node: unknown): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) return node.value === null ? 'null' : `${typeof node.value} ${show(node.value)}`;
  return 'an unsupported value';
}

// ---------------------------------------------------------------------------------------------
// Running

export interface ExecAnswer {
  code: number;
  stdout: string;
  stderr: string;
  /** The adapter stopped the command at timeoutMs. */
  timedOut?: boolean;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** No answer: refused, reset, or (timedOut) nothing within timeoutMs. */
export interface HttpFailure {
  error: string;
  timedOut?: boolean;
}

/**
 * The side effects a check needs. Both must give up at timeoutMs (kill the exec, abort the
 * request); an answer that comes later than timeoutMs by the clock counts as a timeout anyway.
 * A thrown error is a failed attempt, not a crash.
 */
export interface CheckAdapters {
  exec(argv: string[], timeoutMs: number): Promise<ExecAnswer>;
  http(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number): Promise<HttpAnswer | HttpFailure>;
}

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};

export interface RunCheckOptions {
  /** The worker token: replaces ${WORKER_TOKEN} in requests and is masked as *** in everything returned. */
  token?: string;
  /** When the container started, by the clock; initialDelaySeconds counts from here. Default: now. */
  startedAt?: number;
  /** A cancelled run stops before the next attempt and throws. */
  signal?: AbortSignal;
}

/** One attempt, as shown: secrets masked, output trimmed. */
export interface AttemptResult {
  ok: boolean;
  /** Why it failed, in a few words (exit code 1, timed out after 1s, json a.b = false, ...). */
  reason?: string;
  ms: number;
  timedOut?: boolean;
  error?: string;
  code?: number;
  stdout?: string;
  stderr?: string;
  status?: number;
  body?: string;
}

export interface CheckRun {
  passed: boolean;
  attempts: number;
  lastResult: AttemptResult;
  finding?: Finding;
}

const SHOWN = 500;
const KEPT = 4000;

function tail(s: string, max: number): string {
  const t = s.trim();
  return t.length > max ? `…${t.slice(-max)}` : t;
}

/** Replaces the token, and its JSON-escaped form, with ***. */
export function maskSecret(s: string, token: string | undefined): string {
  if (!token) return s;
  let out = s.split(token).join('***');
  const escaped = JSON.stringify(token).slice(1, -1);
  if (escaped !== token) out = out.split(escaped).join('***');
  return out;
}

const re = (r: RegExp) => `/${r.source}/`;
const jsonText = (j: JsonExpectation) => `json ${j.path} = ${JSON.stringify(j.value)}`;

/** What success looks like, for the finding: `exit code 0 and stdout matching /whisper/`. */
export function describeExpected(check: DeclaredCheck): string {
  const alts =
    check.kind === 'exec'
      ? check.expect.map((e) => [`exit code ${e.exitCode}`, ...(e.stdout ? [`stdout matching ${re(e.stdout)}`] : []), ...e.json.map(jsonText)].join(' and '))
      : check.expect.map((e) => [`HTTP ${e.status}`, ...(e.body ? [`body matching ${re(e.body)}`] : []), ...e.json.map(jsonText)].join(' and '));
  const what = check.kind === 'http' ? `${check.method} ${check.path}: ` : '';
  return `${what}${alts.join(' or ')}${check.successThreshold > 1 ? `, ${check.successThreshold} times in a row` : ''}`;
}

/** The first mismatch of `text` against one expectation, or undefined when it holds. */
function mismatch(text: string, pattern: RegExp | undefined, json: JsonExpectation[], what: string): string | undefined {
  if (pattern && !pattern.test(text)) return `${what} not matching ${re(pattern)}`;
  if (json.length === 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `${what} is not JSON`;
  }
  for (const j of json) {
    const got = lookupJson(parsed, j.segments);
    if (!got.found) return `json ${j.path} missing`;
    if (!jsonEqual(got.value, j.value)) return `json ${j.path} = ${JSON.stringify(got.value)}`;
  }
  return undefined;
}

async function attempt(check: DeclaredCheck, adapters: CheckAdapters, clock: Clock, token: string): Promise<AttemptResult> {
  const timeoutMs = check.timeoutSeconds * 1000;
  const t0 = clock.now();
  const timedOut = (): AttemptResult => ({ ok: false, timedOut: true, reason: `timeout (${check.timeoutSeconds}s)`, ms: clock.now() - t0 });
  try {
    if (check.kind === 'exec') {
      const r = await adapters.exec(check.argv, timeoutMs);
      if (r.timedOut || clock.now() - t0 > timeoutMs) return { ...timedOut(), stdout: r.stdout, stderr: r.stderr };
      const reasons: string[] = [];
      for (const e of check.expect) {
        const why = r.code !== e.exitCode ? undefined : mismatch(r.stdout, e.stdout, e.json, 'stdout');
        if (r.code === e.exitCode && why === undefined) return { ok: true, ms: clock.now() - t0, code: r.code, stdout: r.stdout, stderr: r.stderr };
        reasons.push(why ?? `exit code ${r.code}`);
      }
      return { ok: false, reason: unique(reasons).join(' / '), ms: clock.now() - t0, code: r.code, stdout: r.stdout, stderr: r.stderr };
    }
    const fill = (s: string) => s.split(TOKEN_PLACEHOLDER).join(token);
    const headers = Object.fromEntries(Object.entries(check.headers).map(([k, v]) => [k, fill(v)]));
    const r = await adapters.http(check.method, check.path, headers, check.body === undefined ? undefined : fill(check.body), timeoutMs);
    if ('error' in r) return r.timedOut ? timedOut() : { ok: false, error: r.error, reason: `no answer (${r.error})`, ms: clock.now() - t0 };
    if (clock.now() - t0 > timeoutMs) return { ...timedOut(), status: r.status, body: r.body };
    const reasons: string[] = [];
    for (const e of check.expect) {
      const why = r.status !== e.status ? `HTTP ${r.status}` : mismatch(r.body, e.body, e.json, 'body');
      if (why === undefined) return { ok: true, ms: clock.now() - t0, status: r.status, body: r.body };
      reasons.push(r.status === e.status ? `HTTP ${r.status}, ${why}` : why);
    }
    return { ok: false, reason: unique(reasons).join(' / '), ms: clock.now() - t0, status: r.status, body: r.body };
  } catch (e) {
    return { ok: false, error: messageOf(e), reason: `error: ${messageOf(e)}`, ms: clock.now() - t0 };
  }
}

const unique = (xs: string[]) => [...new Set(xs)];

/** The result as it may be shown: every string masked, output kept to its last few KB. */
function masked(r: AttemptResult, token: string): AttemptResult {
  const out: AttemptResult = { ...r };
  for (const k of ['reason', 'error', 'stdout', 'stderr', 'body'] as const) {
    if (out[k] !== undefined) out[k] = tail(maskSecret(out[k], token), KEPT);
  }
  return out;
}

function actualOf(check: DeclaredCheck, last: AttemptResult, attempts: number, flapped: boolean): string {
  const count = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
  let s = flapped
    ? `no ${check.successThreshold} successes or ${check.failureThreshold} failures in a row after ${count}; last: ${last.reason}`
    : `${last.reason} after ${count}`;
  if (check.kind === 'exec') {
    const wantsOut = check.expect.some((e) => e.stdout || e.json.length > 0) && !last.timedOut;
    if (last.stderr?.trim()) s += `; stderr: ${tail(last.stderr, SHOWN)}`;
    if (last.stdout?.trim() && (wantsOut || !last.stderr?.trim())) s += `; stdout: ${tail(last.stdout, SHOWN)}`;
  } else if (last.body !== undefined) {
    s += `; body: ${tail(last.body, SHOWN) || '(empty)'}`;
  }
  return s;
}

/**
 * Runs one declared check with probe semantics (see the top of this file): waits until
 * initialDelaySeconds after `startedAt`, then attempts every periodSeconds until successThreshold
 * consecutive successes (passed) or failureThreshold consecutive failures (failed).
 * Everything returned has the token masked.
 */
export async function runCheck(check: DeclaredCheck, adapters: CheckAdapters, clock: Clock = realClock, opts: RunCheckOptions = {}): Promise<CheckRun> {
  const token = opts.token ?? '';
  const period = check.periodSeconds * 1000;
  let next = (opts.startedAt ?? clock.now()) + check.initialDelaySeconds * 1000;
  const limit = FLAP_FACTOR * (check.successThreshold + check.failureThreshold);
  let successes = 0;
  let failures = 0;
  let attempts = 0;
  for (;;) {
    const wait = next - clock.now();
    if (wait > 0) await clock.sleep(wait, opts.signal);
    if (opts.signal?.aborted) throw new Error(`check '${check.name}' cancelled`);
    const last = masked(await attempt(check, adapters, clock, token), token);
    attempts++;
    if (last.ok) {
      successes++;
      failures = 0;
    } else {
      failures++;
      successes = 0;
    }
    if (successes >= check.successThreshold) return { passed: true, attempts, lastResult: last };
    const flapped = failures < check.failureThreshold && attempts >= limit;
    if (failures >= check.failureThreshold || flapped) {
      const finding: Finding = {
        check: `check '${check.name}'`,
        // Built from the declaration alone, where the token is only ever a placeholder.
        expected: describeExpected(check),
        actual: maskSecret(actualOf(check, last, attempts, flapped), token),
      };
      return { passed: false, attempts, lastResult: last, finding };
    }
    next += period;
    while (next < clock.now()) next += period;
  }
}
