import * as yaml from 'js-yaml';
import { stringify as yamlText } from 'yaml';

/**
 * ml-image.yml: several images or variants built from one repository. Each entry's keys are the
 * action's input names (YAML lists and maps allowed where an input takes a list), plus `name` and
 * `suffix`. Action inputs that are set win over the file; the file's `defaults` fill what an entry
 * leaves out. Parsing turns every entry into plain input strings, so the one input parser
 * (inputs.ts) validates file and inputs alike.
 */
export interface ConfigEntry {
  name: string;
  /** Tag suffix for this entry's tags ('' for none). Defaults to '-<name>' when there are several entries. */
  suffix: string;
  /** Input name -> input string, as the action would receive it. */
  values: Record<string, string>;
  /** Input name -> line in the file, for error messages. */
  lines: Record<string, number>;
  /** Where the entry is, e.g. "images[1]". */
  path: string;
}

export interface Config {
  file: string;
  entries: ConfigEntry[];
}

export class ConfigError extends Error {
  constructor(file: string, line: number | undefined, key: string, message: string) {
    super(`${file}${line ? `:${line}` : ''}: ${key}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** Keys that take a scalar (string, number or boolean). */
const SCALAR_KEYS = [
  'image', 'context', 'file', 'target', 'network', 'torch-version', 'torchaudio-version', 'torchvision-version', 'python-version',
  'torch-index-url', 'tag-rules', 'sha-length', 'python', 'gpu', 'allow-unknown-torch', 'token-env',
  'non-root', 'model-cache', 'healthcheck', 'offline', 'memory', 'parallel', 'size-budget',
];
const LIST_KEYS = ['platforms', 'tags', 'pinned-packages'];
const PING_KEYS: Record<string, string> = { port: 'ping-port', path: 'ping-path', 'startup-timeout': 'startup-timeout', 'token-env': 'token-env' };
export const CONFIG_KEYS = ['name', 'suffix', ...SCALAR_KEYS, ...LIST_KEYS, 'torch-variants', 'expect', 'build-args', 'ping', 'checks'];

type Node = unknown;
const isMap = (v: Node): v is Record<string, Node> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: Node) => ['string', 'number', 'boolean'].includes(typeof v);

/**
 * The line of a key path in block-style YAML, found by indentation: js-yaml gives values, not
 * positions. Falls back to the nearest parent found.
 */
export function lineOf(text: string, path: (string | number)[]): number | undefined {
  const lines = text.split('\n');
  let from = 0;
  let indent = -1;
  let found: number | undefined;
  for (const seg of path) {
    let hit = -1;
    let count = -1;
    for (let i = from; i < lines.length; i++) {
      const l = lines[i];
      if (!l.trim() || l.trim().startsWith('#')) continue;
      const ind = l.length - l.trimStart().length;
      if (ind <= indent && i > from) break; // left the parent block
      const body = l.trimStart();
      if (typeof seg === 'number') {
        if (body.startsWith('- ') || body === '-') {
          if (++count === seg) {
            hit = i;
            indent = ind;
            break;
          }
        }
      } else {
        const m = /^(?:- +)?["']?([^"':]+)["']?\s*:/.exec(body);
        if (m && m[1].trim() === seg && ind > indent) {
          hit = i;
          indent = ind + (body.startsWith('- ') ? 2 : 0);
          break;
        }
      }
    }
    if (hit < 0) return found;
    found = hit + 1;
    from = hit + (typeof seg === 'number' ? 0 : 1);
  }
  return found;
}

function scalar(v: Node): string {
  return String(v);
}

/**
 * A `checks` value as the `checks` input string: a list is written back as YAML, a string is
 * taken as YAML text already. Validated later by the input parser (verify/checks.ts), like every
 * other key. Undefined for anything else.
 */
export function checksInputOf(v: Node): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.length === 0 ? '' : yamlText(v);
  return undefined;
}

/** One entry's keys to input strings. */
function entryValues(node: Record<string, Node>, where: (string | number)[], fail: (path: (string | number)[], msg: string) => never): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(node)) {
    const at = [...where, key];
    if (key === 'name' || key === 'suffix') {
      if (!isScalar(v)) fail(at, 'must be a string');
    } else if (SCALAR_KEYS.includes(key)) {
      if (!isScalar(v)) fail(at, 'must be a single value');
      out[key] = scalar(v);
    } else if (LIST_KEYS.includes(key)) {
      if (Array.isArray(v) && v.every(isScalar)) out[key] = v.map(scalar).join('\n');
      else if (isScalar(v)) out[key] = scalar(v);
      else fail(at, 'must be a list of strings');
    } else if (key === 'torch-variants') {
      if (isMap(v) && Object.values(v).every(isScalar)) out[key] = Object.entries(v).map(([p, x]) => `${p}=${scalar(x)}`).join(',');
      else if (typeof v === 'string') out[key] = v;
      else fail(at, 'must map platforms to variants, e.g. {linux/amd64: cu121, linux/arm64: cpu}');
    } else if (key === 'expect') {
      if (!isMap(v)) fail(at, 'must map platforms to {torch, torchaudio, cuda}');
      const lines: string[] = [];
      for (const [p, e] of Object.entries(v)) {
        if (!isMap(e)) fail([...at, p], 'must be a map with torch, torchaudio and/or cuda');
        for (const [k, x] of Object.entries(e)) {
          if (!['torch', 'torchaudio', 'cuda'].includes(k)) fail([...at, p, k], 'unknown key; accepted: torch, torchaudio, cuda');
          if (!isScalar(x) && x !== null) fail([...at, p, k], 'must be a version string (or none for cuda)');
        }
        lines.push(`${p}: ${Object.entries(e).map(([k, x]) => `${k}=${x === null ? 'none' : scalar(x)}`).join(' ')}`);
      }
      out[key] = lines.join('\n');
    } else if (key === 'build-args') {
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
        out[key] = v.join('\n');
      } else if (isMap(v)) {
        const lines: string[] = [];
        for (const [k, x] of Object.entries(v)) {
          if (isMap(x)) {
            // a platform's own args: {linux/arm64: {BASE_IMAGE: ...}}
            for (const [n, y] of Object.entries(x)) {
              if (!isScalar(y)) fail([...at, k, n], 'must be a single value');
              lines.push(`${k}:${n}=${scalar(y)}`);
            }
          } else if (isScalar(x)) {
            lines.push(`${k}=${scalar(x)}`);
          } else {
            fail([...at, k], 'must be a value, or a map of args for that platform');
          }
        }
        out[key] = lines.join('\n');
      } else {
        fail(at, 'must map NAME to value (optionally under a platform key), or be a list of NAME=value');
      }
    } else if (key === 'checks') {
      const text = checksInputOf(v);
      if (text === undefined) fail(at, 'must be a list of checks (each with a name and exec or http)');
      out[key] = text!;
    } else if (key === 'ping') {
      if (!isMap(v)) fail(at, `must be a map with ${Object.keys(PING_KEYS).join(', ')}`);
      for (const [k, x] of Object.entries(v)) {
        if (!PING_KEYS[k]) fail([...at, k], `unknown key; accepted: ${Object.keys(PING_KEYS).join(', ')}`);
        if (!isScalar(x)) fail([...at, k], 'must be a single value');
        out[PING_KEYS[k]] = scalar(x);
      }
    } else {
      fail(at, `unknown key; accepted: ${CONFIG_KEYS.join(', ')}`);
    }
  }
  return out;
}

export function parseConfig(text: string, file: string): Config {
  type Fail = (path: (string | number)[], msg: string) => never;
  const fail: Fail = (path, msg) => {
    const key = path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
    throw new ConfigError(file, lineOf(text, path), key || '(top level)', msg);
  };
  let doc: Node;
  try {
    doc = yaml.load(text, { filename: file });
  } catch (e) {
    const m = e as yaml.YAMLException;
    throw new ConfigError(file, m.mark ? m.mark.line + 1 : undefined, '(syntax)', m.reason ?? m.message);
  }
  if (!isMap(doc)) fail([], 'the file must be a map with an `images` list (and optional `defaults`)');
  for (const k of Object.keys(doc)) if (!['defaults', 'images', 'version'].includes(k)) fail([k], 'unknown top-level key; accepted: version, defaults, images');
  if (doc.version !== undefined && String(doc.version) !== '1') fail(['version'], `unsupported version ${String(doc.version)}; accepted: 1`);

  const defaults = doc.defaults === undefined ? {} : doc.defaults;
  if (!isMap(defaults)) fail(['defaults'], 'must be a map of input names to values');
  if ('name' in defaults || 'suffix' in defaults) fail(['defaults'], 'name and suffix belong to an image, not to defaults');
  const base = entryValues(defaults, ['defaults'], fail);

  const images = doc.images;
  if (!Array.isArray(images) || images.length === 0) fail(['images'], 'must be a non-empty list of images');
  const entries: ConfigEntry[] = [];
  const names = new Set<string>();
  images.forEach((node: Node, i: number) => {
    if (!isMap(node)) fail(['images', i], 'must be a map');
    const name = node.name === undefined ? (images.length === 1 ? 'default' : undefined) : String(node.name);
    if (!name) fail(['images', i], 'needs a name when the file lists several images');
    if (!/^[a-z0-9][a-z0-9_.-]*$/.test(name!)) fail(['images', i, 'name'], `'${name}' must be lowercase letters, digits, . _ -`);
    if (names.has(name!)) fail(['images', i, 'name'], `'${name}' is used twice`);
    names.add(name!);
    const own = entryValues(node, ['images', i], fail);
    const values = { ...base, ...own };
    // Where each input came from, so a value the input parser refuses is reported at its line.
    const lines: Record<string, number> = {};
    for (const k of Object.keys(values)) {
      const where: (string | number)[] = k in own ? ['images', i] : ['defaults'];
      const src = k in own ? node : (defaults as Record<string, Node>);
      const pingKey = Object.keys(PING_KEYS).find((pk) => PING_KEYS[pk] === k);
      const line = lineOf(text, pingKey && !(k in src) ? [...where, 'ping', pingKey] : [...where, k]);
      if (line) lines[k] = line;
    }
    const suffix = node.suffix !== undefined ? String(node.suffix) : images.length > 1 ? `-${name}` : '';
    entries.push({ name: name!, suffix, values, lines, path: `images[${i}]` });
  });
  return { file, entries };
}
