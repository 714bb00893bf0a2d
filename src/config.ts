import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, stringify as yamlText, type Document, type Node as YamlNode } from 'yaml';
import { MAX_BUILD_ARG_BYTES } from './limits';
import { scalarText } from './errors';

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
  /** Input name -> line in the file (of the key that sets it), for error messages. */
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

/**
 * What a scalar key takes, as YAML types it: `line` a one-line string; `text` a string that may
 * span lines (the input's own list format); `version` a string that must be written as one (an
 * unquoted 2.10 is the number 2.1); `int` a whole number in digits (or a string such as 'auto');
 * `bool` true/false (or the strings the input accepts).
 */
type Want = 'line' | 'text' | 'version' | 'int' | 'bool';

/** Keys that take a scalar, and its kind. */
const SCALAR_KEYS: Record<string, Want> = {
  image: 'line',
  context: 'line',
  file: 'line',
  target: 'line',
  network: 'line',
  'torch-version': 'version',
  'torchaudio-version': 'version',
  'torchvision-version': 'version',
  'python-version': 'version',
  'torch-index-url': 'line',
  'tag-rules': 'text',
  'sha-length': 'int',
  python: 'line',
  gpu: 'bool',
  'allow-unknown-torch': 'bool',
  'token-env': 'line',
  'non-root': 'bool',
  'model-cache': 'line',
  healthcheck: 'line',
  offline: 'bool',
  memory: 'line',
  parallel: 'int',
  'size-budget': 'text',
  provenance: 'bool',
  sbom: 'bool',
};
const LIST_KEYS = ['platforms', 'tags', 'pinned-packages'];
const PING_KEYS: Record<string, string> = { port: 'ping-port', path: 'ping-path', 'startup-timeout': 'startup-timeout', 'token-env': 'token-env' };
const PING_WANT: Record<string, Want> = { port: 'int', path: 'line', 'startup-timeout': 'int', 'token-env': 'line' };
/** Keys whose lines are separated by newlines only: a label or annotation value may hold commas. */
const LINE_LIST_KEYS = ['labels', 'annotations'];
/** Inputs that hand secrets to the build: action inputs only. */
const SECRET_KEYS = ['secrets', 'secret-files', 'ssh'];
export const CONFIG_KEYS = [
  'name',
  'suffix',
  ...Object.keys(SCALAR_KEYS),
  ...LIST_KEYS,
  ...LINE_LIST_KEYS,
  'torch-variants',
  'expect',
  'build-args',
  'ping',
  'checks',
];

/** Aliases in a file at most, and how often they may be expanded in all (a "billion laughs" file must not exhaust memory). */
const MAX_ALIASES = 100;
const MAX_EXPANSIONS = 10_000;
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

type Path = (string | number)[];

const keyOf = (path: Path) => path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');

/** A parsed file: its nodes with their lines, aliases resolved (and counted). */
class Tree {
  private readonly lc = new LineCounter();
  readonly doc: Document.Parsed;
  private readonly aliases = new Set<unknown>();
  private expansions = 0;

  constructor(
    readonly text: string,
    readonly file: string,
  ) {
    // uniqueKeys off: a key given twice is reported below with its path, not as a bare syntax error.
    this.doc = parseDocument(text, { lineCounter: this.lc, prettyErrors: false, uniqueKeys: false });
  }

  lineOf(node: YamlNode | null | undefined): number | undefined {
    return node?.range ? this.lineAt(node.range[0]) : undefined;
  }

  lineAt(offset: number): number {
    return this.lc.linePos(offset).line;
  }

  fail(node: YamlNode | null | undefined, path: Path, msg: string): never {
    throw new ConfigError(this.file, this.lineOf(node), keyOf(path) || '(top level)', msg);
  }

  resolve(node: unknown, path: Path): YamlNode | null {
    if (!isAlias(node)) return (node as YamlNode | null) ?? null;
    this.aliases.add(node);
    if (this.aliases.size > MAX_ALIASES) this.fail(node, path, `more than ${MAX_ALIASES} aliases; write the values out`);
    if (++this.expansions > MAX_EXPANSIONS) this.fail(node, path, `aliases expand to more than ${MAX_EXPANSIONS} values; write the values out`);
    const target = node.resolve(this.doc);
    if (!target) this.fail(node, path, `alias *${node.source} names no anchor`);
    return target;
  }

  /** A map's pairs as [key, key node, value node]; keys must be plain names, each given once. */
  pairs(node: YamlNode | null, path: Path): [string, YamlNode, YamlNode | null][] {
    if (!isMap(node)) return [];
    const out: [string, YamlNode, YamlNode | null][] = [];
    const seen = new Map<string, YamlNode>();
    for (const pair of node.items) {
      const k = pair.key as YamlNode | null;
      if (!isScalar(k) || (typeof k.value !== 'string' && typeof k.value !== 'number')) this.fail(k ?? node, path, 'keys must be names');
      const key = String(k.value);
      const first = seen.get(key);
      if (first) this.fail(k, [...path, key], `is given twice (first at line ${this.lineOf(first)}); YAML keeps only one of them`);
      seen.set(key, k);
      out.push([key, k, this.resolve(pair.value, [...path, key])]);
    }
    return out;
  }

  /** Refuses a key given twice anywhere in the file (inside `checks` too, which is converted to plain values). */
  checkDuplicates(node: YamlNode | null, path: Path, depth = 0): void {
    if (depth > 64) this.fail(node, path, 'is nested too deeply');
    if (isMap(node)) for (const [k, , v] of this.pairs(node, path)) this.checkDuplicates(v, [...path, k], depth + 1);
    else if (isSeq(node)) node.items.forEach((x, i) => this.checkDuplicates(this.resolve(x, [...path, i]), [...path, i], depth + 1));
  }

  /** The node as plain values (for `checks`), with the alias limit. */
  toJS(node: YamlNode, path: Path): unknown {
    try {
      return node.toJS(this.doc, { maxAliasCount: MAX_ALIASES });
    } catch (e) {
      return this.fail(node, path, (e as Error).message);
    }
  }

  /**
   * A scalar as the input string it stands for, refusing what YAML typed differently from what
   * was written: `torch-version: 2.10` is the number 2.1, `port: 1e3` the number 1000, `image: true`
   * a boolean, `image:` no value at all.
   */
  scalar(node: YamlNode | null, path: Path, want: Want | 'value'): string {
    const where = keyOf(path).replace(/^.*\./, '');
    if (!isScalar(node)) return this.fail(node, path, `must be a single value; got ${describe(node)}`);
    const v = node.value;
    const source = node.source ?? String(v);
    if (v === null || v === undefined) return this.fail(node, path, 'has no value; write one, or leave the key out');
    if (typeof v === 'string') {
      if (want !== 'text' && /[\r\n]/.test(v)) {
        return this.fail(
          node,
          path,
          `must be one line; a newline here would make two ${['build-args', 'tags'].some((k) => path.includes(k)) ? 'entries' : 'values'} of one (got ${JSON.stringify(v.slice(0, 80))})`,
        );
      }
      return v;
    }
    if (typeof v === 'boolean') {
      if (want === 'bool' || (want === 'value' && source === String(v))) return String(v);
      if (want === 'int') return this.fail(node, path, `is the boolean ${source}; ${where} takes a whole number`);
      return this.fail(node, path, `is the boolean ${source}; ${where} takes a string: quote it ('${source}') if you mean the word`);
    }
    if (typeof v === 'number' || typeof v === 'bigint') {
      if (want === 'version') {
        return this.fail(
          node,
          path,
          `is the number ${String(v)} to YAML, not the version ${source}: write versions in quotes ('${source}'), as YAML reads unquoted ones as numbers (2.10 as 2.1)`,
        );
      }
      if (want === 'int' && !/^[0-9]+$/.test(source)) {
        if (!Number.isInteger(v)) return this.fail(node, path, `${source} is not a whole number; accepted: plain digits such as 120`);
        return this.fail(node, path, `YAML reads ${source} as the number ${String(v)}; write it in plain digits (${String(v)})`);
      }
      if (want === 'bool') return this.fail(node, path, `is the number ${source}; accepted: true or false`);
      if (String(v) !== source) {
        return this.fail(node, path, `YAML reads ${source} as the number ${String(v)}; quote it ('${source}') to keep it as written`);
      }
      return String(v);
    }
    return this.fail(node, path, `must be a single value; got ${describe(node)}`);
  }
}

function describe(node: YamlNode | null): string {
  if (node === null) return 'nothing';
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) return node.value === null ? 'no value' : `the ${typeof node.value} ${node.source ?? scalarText(node.value)}`;
  return 'something else';
}

/**
 * The line of a key path (of the key, or of the list item), falling back to the nearest parent
 * found. Read from the parsed document, so flow style and comments are no problem.
 */
export function lineOf(text: string, path: (string | number)[]): number | undefined {
  const t = new Tree(text, '');
  let node: YamlNode | null = t.doc.contents;
  let found: number | undefined;
  for (const seg of path) {
    let at: YamlNode | null | undefined;
    let next: YamlNode | null = null;
    if (typeof seg === 'number' && isSeq(node)) {
      at = node.items[seg] as YamlNode | undefined;
      next = at ?? null;
    } else if (typeof seg === 'string' && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === seg);
      at = pair?.key as YamlNode | undefined;
      next = (pair?.value as YamlNode | null) ?? null;
    }
    if (!at) return found;
    found = t.lineOf(at);
    node = isAlias(next) ? ((next.resolve(t.doc) as YamlNode | undefined) ?? null) : next;
  }
  return found;
}

/**
 * A `checks` value as the `checks` input string: a list is written back as YAML, a string is
 * taken as YAML text already. Validated later by the input parser (verify/checks.ts), like every
 * other key. Undefined for anything else.
 */
export function checksInputOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.length === 0 ? '' : yamlText(v);
  return undefined;
}

/** One entry's keys to input strings, and where each is set. */
function entryValues(t: Tree, node: YamlNode, where: Path): { values: Record<string, string>; at: Record<string, YamlNode> } {
  const values: Record<string, string> = {};
  const at: Record<string, YamlNode> = {};
  for (const [key, k, v] of t.pairs(node, where)) {
    const path = [...where, key];
    const set = (input: string, value: string, keyNode: YamlNode = k) => {
      values[input] = value;
      at[input] = keyNode;
    };
    if (key === 'name' || key === 'suffix') {
      t.scalar(v, path, 'line');
    } else if (SCALAR_KEYS[key]) {
      set(key, t.scalar(v, path, SCALAR_KEYS[key]));
    } else if (LIST_KEYS.includes(key)) {
      if (isSeq(v)) {
        const items = v.items.map((x, i) => {
          const item = t.scalar(t.resolve(x, [...path, i]), [...path, i], 'line');
          if (item.includes(',')) t.fail(x as YamlNode, [...path, i], `'${item}' holds a comma: give one item per list entry`);
          return item;
        });
        set(key, items.join('\n'));
      } else if (isScalar(v)) set(key, t.scalar(v, path, 'text'));
      else t.fail(v ?? k, path, 'must be a list of strings');
    } else if (LINE_LIST_KEYS.includes(key)) {
      // A list of lines as the input takes them, or (labels) a map of key to value.
      if (isSeq(v)) set(key, v.items.map((x, i) => t.scalar(t.resolve(x, [...path, i]), [...path, i], 'line')).join('\n'));
      else if (isScalar(v)) set(key, t.scalar(v, path, 'text'));
      else if (key === 'labels' && isMap(v)) {
        const lines = t.pairs(v, path).map(([name, kn, x]) => {
          // A key holding '=' would be split there when the line is read back: another label.
          if (/[=\s]/.test(name)) t.fail(kn, [...path, name], `'${name}' is not a label key (no '=' or spaces)`);
          return `${name}=${t.scalar(x, [...path, name], 'value')}`;
        });
        set(key, lines.join('\n'));
      } else t.fail(v ?? k, path, key === 'labels' ? 'must map keys to values, or be a list of key=value' : 'must be a list of [TYPE:]KEY=VALUE lines');
    } else if (key === 'torch-variants') {
      if (isMap(v)) {
        const items = t.pairs(v, path).map(([p, , x]) => {
          const variant = t.scalar(x, [...path, p], 'line');
          if (/[\s,=]/.test(variant)) t.fail(x, [...path, p], `'${variant}' is not a variant such as cu121 or cpu`);
          return `${p}=${variant}`;
        });
        set(key, items.join(','));
      } else if (isScalar(v) && typeof v.value === 'string') set(key, v.value);
      else t.fail(v ?? k, path, 'must map platforms to variants, e.g. {linux/amd64: cu121, linux/arm64: cpu}');
    } else if (key === 'expect') {
      if (!isMap(v)) t.fail(v ?? k, path, 'must map platforms to {torch, torchaudio, cuda}');
      const lines: string[] = [];
      for (const [p, , e] of t.pairs(v, path)) {
        if (!isMap(e)) t.fail(e, [...path, p], 'must be a map with torch, torchaudio and/or cuda');
        const pairs = t.pairs(e, [...path, p]).map(([name, kn, x]) => {
          const at2 = [...path, p, name];
          if (!['torch', 'torchaudio', 'cuda'].includes(name)) t.fail(kn, at2, 'unknown key; accepted: torch, torchaudio, cuda');
          if (name === 'cuda' && isScalar(x) && x.value === null) return 'cuda=none';
          const value = t.scalar(x, at2, 'version');
          if (/\s/.test(value)) t.fail(x, at2, `'${value}' holds a space; a version is one word (such as 2.2.2+cu121)`);
          return `${name}=${value}`;
        });
        lines.push(`${p}: ${pairs.join(' ')}`);
      }
      set(key, lines.join('\n'));
    } else if (key === 'build-args') {
      const check = (value: string, node: YamlNode | null, p: Path) => {
        if (Buffer.byteLength(value) > MAX_BUILD_ARG_BYTES) {
          t.fail(
            node,
            p,
            `is ${Buffer.byteLength(value)} bytes; a build arg is at most ${MAX_BUILD_ARG_BYTES} bytes (use a file in the context, or a build secret, for more)`,
          );
        }
        return value;
      };
      if (isSeq(v)) {
        set(key, v.items.map((x, i) => check(t.scalar(t.resolve(x, [...path, i]), [...path, i], 'line'), x as YamlNode, [...path, i])).join('\n'));
      } else if (isMap(v)) {
        const lines: string[] = [];
        for (const [name, kn, x] of t.pairs(v, path)) {
          if (isMap(x)) {
            // a platform's own args: {linux/arm64: {BASE_IMAGE: ...}}
            for (const [n, kn2, y] of t.pairs(x, [...path, name])) {
              if (!NAME_RE.test(n)) t.fail(kn2, [...path, name, n], `'${n}' is not a build arg name (letters, digits and _, not starting with a digit)`);
              lines.push(`${name}:${n}=${check(t.scalar(y, [...path, name, n], 'value'), y, [...path, name, n])}`);
            }
          } else if (isScalar(x)) {
            if (!NAME_RE.test(name))
              t.fail(
                kn,
                [...path, name],
                `'${name}' is not a build arg name (letters, digits and _, not starting with a digit), nor a platform with a map of args`,
              );
            lines.push(`${name}=${check(t.scalar(x, [...path, name], 'value'), x, [...path, name])}`);
          } else {
            t.fail(x ?? kn, [...path, name], 'must be a value, or a map of args for that platform');
          }
        }
        set(key, lines.join('\n'));
      } else {
        t.fail(v ?? k, path, 'must map NAME to value (optionally under a platform key), or be a list of NAME=value');
      }
    } else if (key === 'checks') {
      const text = v === null ? undefined : checksInputOf(isScalar(v) ? v.value : t.toJS(v, path));
      if (text === undefined) t.fail(v ?? k, path, 'must be a list of checks (each with a name and exec or http)');
      set(key, text);
    } else if (key === 'ping') {
      if (!isMap(v)) t.fail(v ?? k, path, `must be a map with ${Object.keys(PING_KEYS).join(', ')}`);
      for (const [name, kn, x] of t.pairs(v, path)) {
        if (!PING_KEYS[name]) t.fail(kn, [...path, name], `unknown key; accepted: ${Object.keys(PING_KEYS).join(', ')}`);
        set(PING_KEYS[name], t.scalar(x, [...path, name], PING_WANT[name]), kn);
      }
    } else if (SECRET_KEYS.includes(key)) {
      // A file in the repository is read by everyone who can read the repository, and kept in its history.
      t.fail(
        k,
        path,
        `secrets are not read from ${t.file || 'the config file'}: a file in the repository is the wrong place for them. Accepted: the action input '${key}' (from \${{ secrets.NAME }}), which applies to every image`,
      );
    } else {
      t.fail(k, path, `unknown key; accepted: ${CONFIG_KEYS.join(', ')}`);
    }
  }
  return { values, at };
}

export function parseConfig(text: string, file: string): Config {
  const t = new Tree(text, file);
  if (t.doc.errors.length > 0) {
    const e = t.doc.errors[0];
    throw new ConfigError(file, t.lineAt(e.pos[0]), '(syntax)', e.message.split('\n')[0]);
  }
  const doc = t.resolve(t.doc.contents, []);
  if (!isMap(doc)) return t.fail(null, [], 'the file must be a map with an `images` list (and optional `defaults`)');
  t.checkDuplicates(doc, []);
  const top = new Map(t.pairs(doc, []).map(([k, kn, v]) => [k, { kn, v }]));
  for (const [k, { kn }] of top)
    if (!['defaults', 'images', 'version'].includes(k)) t.fail(kn, [k], 'unknown top-level key; accepted: version, defaults, images');
  const version = top.get('version');
  if (version) {
    const v = isScalar(version.v) ? String(version.v.value) : '';
    if (v !== '1') t.fail(version.kn, ['version'], `unsupported version ${isScalar(version.v) ? (version.v.source ?? v) : describe(version.v)}; accepted: 1`);
  }

  const defaultsNode = top.get('defaults');
  if (defaultsNode && !isMap(defaultsNode.v)) t.fail(defaultsNode.kn, ['defaults'], 'must be a map of input names to values');
  const defaultKeys = defaultsNode ? t.pairs(defaultsNode.v, ['defaults']).map(([k]) => k) : [];
  if (defaultKeys.includes('name') || defaultKeys.includes('suffix'))
    t.fail(defaultsNode!.kn, ['defaults'], 'name and suffix belong to an image, not to defaults');
  const base = defaultsNode ? entryValues(t, defaultsNode.v!, ['defaults']) : { values: {}, at: {} };

  const imagesNode = top.get('images');
  const images = imagesNode?.v;
  if (!isSeq(images) || images.items.length === 0) return t.fail(imagesNode?.kn ?? null, ['images'], 'must be a non-empty list of images');
  const entries: ConfigEntry[] = [];
  const names = new Set<string>();
  images.items.forEach((item, i) => {
    const node = t.resolve(item, ['images', i]);
    if (!isMap(node)) return t.fail(node ?? (item as YamlNode), ['images', i], 'must be a map');
    const own = new Map(t.pairs(node, ['images', i]).map(([k, kn, v]) => [k, { kn, v }]));
    const nameNode = own.get('name');
    const name = nameNode ? t.scalar(nameNode.v, ['images', i, 'name'], 'line') : images.items.length === 1 ? 'default' : undefined;
    if (!name) return t.fail(node, ['images', i], 'needs a name when the file lists several images');
    if (!/^[a-z0-9][a-z0-9_.-]*$/.test(name)) t.fail(nameNode!.kn, ['images', i, 'name'], `'${name}' must be lowercase letters, digits, . _ -`);
    if (names.has(name)) t.fail(nameNode!.kn, ['images', i, 'name'], `'${name}' is used twice`);
    names.add(name);
    const suffixNode = own.get('suffix');
    const suffix = suffixNode ? t.scalar(suffixNode.v, ['images', i, 'suffix'], 'line') : images.items.length > 1 ? `-${name}` : '';
    if (!/^[A-Za-z0-9_.-]{0,64}$/.test(suffix)) {
      t.fail(suffixNode!.kn, ['images', i, 'suffix'], `'${suffix}' is not a tag suffix: up to 64 of A-Z a-z 0-9 _ . - (e.g. -cu121, -cpu, -slim)`);
    }
    const mine = entryValues(t, node, ['images', i]);
    const values = { ...base.values, ...mine.values };
    // Where each input came from, so a value the input parser refuses is reported at its line.
    const lines: Record<string, number> = {};
    for (const k of Object.keys(values)) {
      const line = t.lineOf(mine.at[k] ?? base.at[k]);
      if (line) lines[k] = line;
    }
    entries.push({ name, suffix, values, lines, path: `images[${i}]` });
  });
  return { file, entries };
}
