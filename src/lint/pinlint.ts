/**
 * Pin lint: a pure planning check, run before any build, that the worker's Python dependencies are
 * pinned exactly (==), never ranges, and agree with the versions the plan installs. A torch,
 * torchaudio or pyannote version other than the one planned crashes at run time, not at build time.
 *
 * Sources understood: requirements/constraints files, pyproject.toml (PEP 621, PEP 735 groups,
 * uv, Poetry) and a Dockerfile's `RUN ... pip install` commands. Each finding names file and line.
 */
import * as nodePath from 'path';
import { contextFiles, workspaceOf } from '../files';

export const DEFAULT_PINNED = ['torch', 'torchaudio', 'torchvision', 'pyannote.audio', 'openai-whisper'];

export interface PinFinding {
  file: string;
  line: number;
  package: string;
  /** A sentence, e.g. "torch>=2.1 is a range; pin it exactly (torch==2.2.2)". */
  problem: string;
}

/** planned: public versions the plan will install, e.g. { torch: '2.2.2', torchaudio: '2.2.2' }; packages absent here only need an exact pin. */
export type Planned = Record<string, string>;

export interface FileSystem {
  list(dir: string): { name: string; dir: boolean }[];
  read(path: string): string;
}

// ---------------------------------------------------------------------------------------------
// Shared: names, versions, placeholders, the verdict on one requirement
// ---------------------------------------------------------------------------------------------

/** Build args the action sets, and the package whose planned version each carries. */
const PLACEHOLDER_PACKAGES: Record<string, string> = {
  TORCH_VERSION: 'torch',
  TORCHAUDIO_VERSION: 'torchaudio',
  TORCHVISION_VERSION: 'torchvision',
};

/** PEP 503: lowercase, runs of - _ . are one separator. */
function normalize(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

interface Lint {
  file: string;
  wanted: Set<string>;
  /** normalized name -> public planned version */
  planned: Map<string, string>;
}

function makeLint(file: string, packages: string[], planned: Planned): Lint {
  const map = new Map<string, string>();
  for (const [name, version] of Object.entries(planned)) {
    if (version) map.set(normalize(name), publicPart(version.trim()));
  }
  return { file, wanted: new Set(packages.map(normalize)), planned: map };
}

function publicPart(version: string): string {
  const i = version.indexOf('+');
  return i < 0 ? version : version.slice(0, i);
}

/** PEP 440-ish equality of public versions: "2.2" equals "2.2.0", a leading v and case do not count. */
function sameVersion(a: string, b: string): boolean {
  const split = (v: string) => /^v?(\d+(?:\.\d+)*)(.*)$/i.exec(v.trim());
  const pa = split(a);
  const pb = split(b);
  if (!pa || !pb) return a.trim().toLowerCase() === b.trim().toLowerCase();
  const rel = (s: string) => {
    const parts = s.split('.').map(Number);
    while (parts.length > 1 && parts[parts.length - 1] === 0) parts.pop();
    return parts.join('.');
  };
  return rel(pa[1]) === rel(pb[1]) && pa[2].toLowerCase() === pb[2].toLowerCase();
}

const PLACEHOLDER_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;
const UNKNOWN = '\u0000';

/**
 * The public version an exact pin stands for once the action's build args are substituted, or
 * null when it cannot be known here (a placeholder for another build arg: accepted as an exact pin).
 */
function resolvePin(version: string, lint: Lint): string | null {
  const resolved = version.replace(PLACEHOLDER_RE, (_m, braced: string | undefined, bare: string | undefined) => {
    const pkg = PLACEHOLDER_PACKAGES[(braced ?? bare) as string];
    return (pkg && lint.planned.get(pkg)) || UNKNOWN;
  });
  const pub = publicPart(resolved);
  return pub.includes(UNKNOWN) ? null : pub;
}

interface Requirement {
  name: string;
  norm: string;
  /** name, extras and specifier as written, without spaces or marker: "torch[opt]>=2.1" */
  display: string;
  spec: string;
  /** A direct reference (name @ URL, a bare URL or path): the version its file name carries, or null. */
  url: string | null;
  urlVersion: string | null;
}

const URL_LIKE_RE = /^(?:[A-Za-z][A-Za-z0-9+.-]*:\/\/|git\+|hg\+|svn\+|bzr\+|file:|\.{1,2}[\\/]|[\\/]|~)|\.(?:whl|tar\.gz|tar\.bz2|tgz|zip)$/i;

/** Name and version from a wheel or sdist file name, or the #egg= fragment (name only). */
function fromUrl(url: string): { name: string | null; version: string | null } {
  const path = url.split('#')[0].split('?')[0].replace(/[\\/]+$/, '');
  let base = path.split(/[\\/]/).pop() ?? '';
  try {
    base = decodeURIComponent(base);
  } catch {
    // keep it as written
  }
  const wheel = /^([^-]+)-([^-]+)(?:-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$/i.exec(base);
  if (wheel) return { name: wheel[1], version: wheel[2] };
  const sdist = /^(.+?)-(\d[^-]*)\.(?:tar\.gz|tar\.bz2|tgz|zip)$/i.exec(base);
  if (sdist) return { name: sdist[1], version: sdist[2] };
  const egg = /#(?:.*&)?egg=([^&\s]+)/.exec(url);
  if (egg) return { name: egg[1].replace(/-\d.*$/, ''), version: null };
  // A VCS URL or a directory: its last segment, e.g. pyannote-audio.git@3.1.1 -> pyannote-audio.
  const dir = base.replace(/@[^/]*$/, '').replace(/\.git$/i, '');
  return { name: /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(dir) ? dir : null, version: null };
}

/** A PEP 508 requirement, or a bare URL/path one pip accepts; null when no package name can be read. */
function parseRequirement(raw: string): Requirement | null {
  const s = raw.trim();
  if (!s) return null;
  if (URL_LIKE_RE.test(s)) {
    const { name, version } = fromUrl(s);
    if (!name) return null;
    return { name, norm: normalize(name), display: s, spec: '', url: s, urlVersion: version };
  }
  const m = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*(.*)$/s.exec(s);
  if (!m) return null;
  const name = m[1];
  const extras = (m[2] ?? '').replace(/\s+/g, '');
  const rest = m[3];
  if (rest.startsWith('@')) {
    const url = rest.slice(1).split(/\s;|\s+;/)[0].trim();
    const { version } = fromUrl(url);
    return { name, norm: normalize(name), display: `${name}${extras} @ ${url}`, spec: '', url, urlVersion: version };
  }
  let spec = rest.split(';')[0].trim();
  const paren = /^\((.*)\)$/s.exec(spec);
  if (paren) spec = paren[1].trim();
  const compact = spec.replace(/\s+/g, '');
  return { name, norm: normalize(name), display: `${name}${extras}${compact}`, spec: compact, url: null, urlVersion: null };
}

type Verdict =
  | { kind: 'exact'; version: string; problem: string | null }
  | { kind: 'loose'; problem: string };

/** How to fix it: the exact pin the plan wants, written for a requirements line or for Poetry. */
function suggestion(name: string, lint: Lint, norm: string, poetry = false): string {
  const v = lint.planned.get(norm);
  if (!v) return 'pin it exactly with ==';
  return poetry ? `pin it exactly (${name} = "${v}")` : `pin it exactly (${name}==${v})`;
}

/** Whether an exact version agrees with the plan; the problem sentence when it does not. */
function againstPlan(req: { name: string; norm: string }, shown: string, version: string, lint: Lint): string | null {
  const planned = lint.planned.get(req.norm);
  if (!planned) return null;
  const resolved = resolvePin(version, lint);
  if (resolved === null || sameVersion(resolved, planned)) return null;
  const via = version.includes('$') ? `; it resolves to ${resolved}` : '';
  return `${shown} disagrees with the plan (${req.name} ${planned}${via})`;
}

/** The verdict on a parsed PEP 508 requirement of a checked package. */
function judge(req: Requirement, lint: Lint): Verdict {
  const fix = suggestion(req.name, lint, req.norm);
  if (req.url !== null) {
    if (req.urlVersion === null) {
      return { kind: 'loose', problem: `${req.name} is unpinned: ${req.url} names no version; ${fix}` };
    }
    return { kind: 'exact', version: req.urlVersion, problem: againstPlan(req, `${req.name} from ${req.url} (${req.urlVersion})`, req.urlVersion, lint) };
  }
  if (req.spec === '') return { kind: 'loose', problem: `${req.name} is unpinned; ${fix}` };
  if (req.spec.includes(',')) return { kind: 'loose', problem: `${req.display} is a range; ${fix}` };
  const m = /^(===|==|~=|!=|<=|>=|<|>)(.*)$/.exec(req.spec);
  if (!m) return { kind: 'loose', problem: `${req.display} is not an exact pin; ${fix}` };
  const [, op, version] = m;
  if ((op === '==' || op === '===') && version !== '' && !version.includes('*')) {
    return { kind: 'exact', version, problem: againstPlan(req, req.display, version, lint) };
  }
  return { kind: 'loose', problem: `${req.display} is a range; ${fix}` };
}

function byLine(findings: PinFinding[]): PinFinding[] {
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => a.f.line - b.f.line || a.i - b.i)
    .map((x) => x.f);
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

// ---------------------------------------------------------------------------------------------
// requirements.txt / constraints.txt
// ---------------------------------------------------------------------------------------------

const COMMENT_RE = /(^|\s+)#.*$/;

/** pip's own order: join backslash continuations (not inside a comment), then drop comments. */
function logicalLines(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  const lines = stripBom(text).split(/\r\n|\n|\r/);
  let acc: string | null = null;
  let start = 0;
  lines.forEach((line, i) => {
    if (acc === null) start = i + 1;
    const continued = !COMMENT_RE.test(line) && /\\$/.test(line);
    const part = continued ? line.slice(0, -1) : line;
    acc = acc === null ? part : acc + part;
    if (!continued) {
      out.push({ text: acc, line: start });
      acc = null;
    }
  });
  if (acc !== null) out.push({ text: acc, line: start });
  return out;
}

export function lintRequirements(text: string, file: string, packages: string[], planned: Planned): PinFinding[] {
  const lint = makeLint(file, packages, planned);
  const findings: PinFinding[] = [];
  for (const logical of logicalLines(text)) {
    let s = logical.text.replace(COMMENT_RE, '').trim();
    if (!s) continue;
    if (s.startsWith('-')) {
      // Option lines (--index-url, -f, -r, -c, ...) install nothing themselves; -e names a requirement.
      const editable = /^(?:-e|--editable)(?:\s*=\s*|\s+|(?=[^\s=]))(.+)$/.exec(s);
      if (!editable) continue;
      s = editable[1].trim();
    }
    // Per-requirement options (--hash=..., --config-settings ...) follow the requirement.
    s = s.replace(/\s+--?[A-Za-z].*$/s, '');
    const req = parseRequirement(s);
    if (!req || !lint.wanted.has(req.norm)) continue;
    const verdict = judge(req, lint);
    if (verdict.problem) findings.push({ file, line: logical.line, package: req.name, problem: verdict.problem });
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------
// pyproject.toml: a small TOML reader that keeps line numbers
// ---------------------------------------------------------------------------------------------

type TomlValue =
  | { t: 'str'; v: string; line: number }
  | { t: 'arr'; items: TomlValue[]; line: number }
  | { t: 'tab'; entries: { key: string[]; value: TomlValue; line: number }[]; line: number }
  | { t: 'other'; line: number };

type TomlStatement =
  | { kind: 'header'; path: string[]; line: number }
  | { kind: 'pair'; path: string[]; value: TomlValue; line: number };

class TomlReader {
  private pos = 0;
  private line = 1;

  constructor(private readonly s: string) {}

  statements(): TomlStatement[] {
    const out: TomlStatement[] = [];
    let table: string[] = [];
    while (this.pos < this.s.length) {
      this.skipBlank(false);
      const c = this.s[this.pos];
      if (c === undefined) break;
      if (c === '\n' || c === '\r') {
        this.advance();
        continue;
      }
      const startPos = this.pos;
      const startLine = this.line;
      try {
        if (c === '[') {
          const arrayTable = this.s[this.pos + 1] === '[';
          this.pos += arrayTable ? 2 : 1;
          this.skipBlank(false);
          const path = this.key();
          this.skipBlank(false);
          this.expect(']');
          if (arrayTable) this.expect(']');
          table = path;
          out.push({ kind: 'header', path, line: startLine });
        } else {
          const key = this.key();
          this.skipBlank(false);
          this.expect('=');
          this.skipBlank(false);
          const value = this.value();
          out.push({ kind: 'pair', path: [...table, ...key], value, line: startLine });
        }
      } catch {
        // Not TOML we understand: resume on the next line.
        this.pos = startPos;
        this.line = startLine;
      }
      this.toLineEnd();
    }
    return out;
  }

  private advance(): string {
    const c = this.s[this.pos++];
    if (c === '\n' || (c === '\r' && this.s[this.pos] !== '\n')) this.line++;
    return c;
  }

  private expect(c: string): void {
    if (this.s[this.pos] !== c) throw new Error(`expected ${c}`);
    this.pos++;
  }

  private toLineEnd(): void {
    while (this.pos < this.s.length && this.s[this.pos] !== '\n' && this.s[this.pos] !== '\r') this.pos++;
  }

  /** Spaces and tabs; with newlines also line breaks and comments. */
  private skipBlank(newlines: boolean): void {
    for (;;) {
      const c = this.s[this.pos];
      if (c === ' ' || c === '\t') this.pos++;
      else if (newlines && (c === '\n' || c === '\r')) this.advance();
      else if (newlines && c === '#') this.toLineEnd();
      else return;
    }
  }

  private key(): string[] {
    const parts: string[] = [];
    for (;;) {
      this.skipBlank(false);
      const c = this.s[this.pos];
      if (c === '"' || c === "'") parts.push(this.string().v);
      else {
        const m = /^[A-Za-z0-9_-]+/.exec(this.s.slice(this.pos, this.pos + 256));
        if (!m) throw new Error('expected a key');
        parts.push(m[0]);
        this.pos += m[0].length;
      }
      this.skipBlank(false);
      if (this.s[this.pos] !== '.') return parts;
      this.pos++;
    }
  }

  private value(): TomlValue {
    const line = this.line;
    const c = this.s[this.pos];
    if (c === '"' || c === "'") return this.string();
    if (c === '[') {
      this.pos++;
      const items: TomlValue[] = [];
      for (;;) {
        this.skipBlank(true);
        if (this.s[this.pos] === ']') {
          this.pos++;
          return { t: 'arr', items, line };
        }
        items.push(this.value());
        this.skipBlank(true);
        if (this.s[this.pos] === ',') this.pos++;
        else if (this.s[this.pos] !== ']') throw new Error('expected , or ]');
      }
    }
    if (c === '{') {
      this.pos++;
      const entries: { key: string[]; value: TomlValue; line: number }[] = [];
      for (;;) {
        this.skipBlank(true);
        if (this.s[this.pos] === '}') {
          this.pos++;
          return { t: 'tab', entries, line };
        }
        const keyLine = this.line;
        const key = this.key();
        this.skipBlank(false);
        this.expect('=');
        this.skipBlank(false);
        entries.push({ key, value: this.value(), line: keyLine });
        this.skipBlank(true);
        if (this.s[this.pos] === ',') this.pos++;
        else if (this.s[this.pos] !== '}') throw new Error('expected , or }');
      }
    }
    const m = /^[A-Za-z0-9_+\-.:]+/.exec(this.s.slice(this.pos, this.pos + 256));
    if (!m) throw new Error('expected a value');
    this.pos += m[0].length;
    return { t: 'other', line };
  }

  private string(): { t: 'str'; v: string; line: number } {
    const line = this.line;
    const q = this.s[this.pos];
    const triple = this.s.startsWith(q.repeat(3), this.pos);
    this.pos += triple ? 3 : 1;
    if (triple && this.s[this.pos] === '\n') this.advance();
    else if (triple && this.s.startsWith('\r\n', this.pos)) {
      this.advance();
      this.advance();
    }
    let v = '';
    for (;;) {
      if (this.pos >= this.s.length) throw new Error('unterminated string');
      if (triple ? this.s.startsWith(q.repeat(3), this.pos) : this.s[this.pos] === q) {
        this.pos += triple ? 3 : 1;
        return { t: 'str', v, line };
      }
      const c = this.s[this.pos];
      if (!triple && (c === '\n' || c === '\r')) throw new Error('newline in string');
      if (q === '"' && c === '\\') {
        this.pos++;
        const e = this.advance();
        const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };
        if (e in simple) v += simple[e];
        else if (e === 'u' || e === 'U') {
          const n = e === 'u' ? 4 : 8;
          v += String.fromCodePoint(parseInt(this.s.slice(this.pos, this.pos + n), 16) || 0xfffd);
          this.pos += n;
        } else if (triple && /\s/.test(e)) this.skipBlank(true); // line-ending backslash
        else v += e;
        continue;
      }
      v += this.advance();
    }
  }
}

/** Arrays of PEP 508 strings: [project] dependencies, optional-dependencies, PEP 735 groups, uv's lists. */
function isPep508List(path: string[]): boolean {
  const p = path.join('\u0000');
  return (
    p === 'project\u0000dependencies' ||
    (path.length === 3 && path[0] === 'project' && path[1] === 'optional-dependencies') ||
    (path.length === 2 && path[0] === 'dependency-groups') ||
    (path.length === 3 && path[0] === 'tool' && path[1] === 'uv' && ['dev-dependencies', 'constraint-dependencies', 'override-dependencies'].includes(path[2]))
  );
}

/** Index of the package segment in a Poetry dependency path, or -1. */
function poetryPackageIndex(path: string[]): number {
  if (path[0] !== 'tool' || path[1] !== 'poetry') return -1;
  if (path[2] === 'dependencies' || path[2] === 'dev-dependencies') return 3;
  if (path[2] === 'group' && path[4] === 'dependencies') return 5;
  return -1;
}

/** A Poetry version constraint: "2.2.2", "==2.2.2" and "=2.2.2" are exact; ^ ~ * ranges and lists are not. */
function judgePoetryConstraint(name: string, norm: string, constraint: string, shown: string, lint: Lint): string | null {
  const c = constraint.trim();
  const fix = suggestion(name, lint, norm, true);
  const m = /^(?:===?|=)?\s*(v?\d[^\s,|<>=!~^*]*|\$\{?[A-Za-z_][^\s,|<>=!~^*]*)$/.exec(c);
  if (c === '' || c === '*') return `${name} is unpinned (${shown}); ${fix}`;
  if (!m) return `${shown} is a range; ${fix}`;
  return againstPlan({ name, norm }, shown, m[1], lint);
}

function lintPoetryDependency(name: string, value: TomlValue, line: number, lint: Lint, out: PinFinding[]): void {
  const norm = normalize(name);
  const push = (l: number, problem: string | null) => {
    if (problem) out.push({ file: lint.file, line: l, package: name, problem });
  };
  if (value.t === 'str') {
    push(line, judgePoetryConstraint(name, norm, value.v, `${name} = "${value.v}"`, lint));
  } else if (value.t === 'tab') {
    const version = value.entries.find((e) => e.key.length === 1 && e.key[0] === 'version');
    if (version && version.value.t === 'str') {
      push(line, judgePoetryConstraint(name, norm, version.value.v, `${name} = { version = "${version.value.v}" }`, lint));
    } else {
      const source = value.entries.find((e) => e.key.length === 1 && ['git', 'url', 'path'].includes(e.key[0]));
      const what = source ? `a ${source.key[0]} dependency without a version` : 'a table without a version';
      push(line, `${name} is unpinned (${what}); ${suggestion(name, lint, norm, true)}`);
    }
  } else if (value.t === 'arr') {
    // Multiple-constraints form: each alternative must be exact.
    for (const item of value.items) lintPoetryDependency(name, item, item.line, lint, out);
  }
}

export function lintPyproject(text: string, file: string, packages: string[], planned: Planned): PinFinding[] {
  const lint = makeLint(file, packages, planned);
  const findings: PinFinding[] = [];
  /** Poetry dependencies written as sub-tables or dotted keys: [tool.poetry.dependencies.torch] version = "..." */
  const split = new Map<string, { name: string; line: number; version: { v: string; line: number } | null; source: string | null }>();

  const visit = (path: string[], value: TomlValue, line: number) => {
    if (isPep508List(path) && value.t === 'arr') {
      for (const item of value.items) {
        if (item.t !== 'str') continue;
        const req = parseRequirement(item.v);
        if (!req || !lint.wanted.has(req.norm)) continue;
        const verdict = judge(req, lint);
        if (verdict.problem) findings.push({ file, line: item.line, package: req.name, problem: verdict.problem });
      }
      return;
    }
    const i = poetryPackageIndex(path);
    if (i >= 0 && path.length === i + 1) {
      if (lint.wanted.has(normalize(path[i]))) lintPoetryDependency(path[i], value, line, lint, findings);
      return;
    }
    if (i >= 0 && path.length === i + 2) {
      const name = path[i];
      if (!lint.wanted.has(normalize(name))) return;
      const id = path.slice(0, i + 1).join('\u0000');
      const entry = split.get(id) ?? { name, line, version: null, source: null };
      if (path[i + 1] === 'version' && value.t === 'str') entry.version = { v: value.v, line };
      if (['git', 'url', 'path'].includes(path[i + 1])) entry.source = path[i + 1];
      split.set(id, entry);
      return;
    }
    if (value.t === 'tab') for (const e of value.entries) visit([...path, ...e.key], e.value, e.line);
  };

  for (const st of new TomlReader(stripBom(text)).statements()) {
    if (st.kind === 'pair') {
      visit(st.path, st.value, st.line);
      continue;
    }
    const i = poetryPackageIndex(st.path);
    if (i >= 0 && st.path.length === i + 1 && lint.wanted.has(normalize(st.path[i]))) {
      const id = st.path.join('\u0000');
      if (!split.has(id)) split.set(id, { name: st.path[i], line: st.line, version: null, source: null });
    }
  }
  for (const { name, line, version, source } of split.values()) {
    const norm = normalize(name);
    if (version) {
      const problem = judgePoetryConstraint(name, norm, version.v, `${name}.version = "${version.v}"`, lint);
      if (problem) findings.push({ file, line: version.line, package: name, problem });
    } else {
      const what = source ? `a ${source} dependency without a version` : 'a table without a version';
      findings.push({ file, line, package: name, problem: `${name} is unpinned (${what}); ${suggestion(name, lint, norm, true)}` });
    }
  }
  return byLine(findings);
}

// ---------------------------------------------------------------------------------------------
// Dockerfile: RUN instructions, a small shell word splitter, pip install arguments
// ---------------------------------------------------------------------------------------------

interface Ch {
  c: string;
  line: number;
}

interface Word {
  op: false;
  v: string;
  line: number;
  /** Offset in v of the first unquoted < or >, or -1: the shell reads it as a redirection. */
  redirect: number;
}
interface Op {
  op: true;
  v: string;
  line: number;
}
type Token = Word | Op;

/** Splits shell text into words (quotes removed, $ expansions kept as written) and operators. */
function tokenize(chars: Ch[]): Token[] {
  const out: Token[] = [];
  let word: Word | null = null;
  const start = (line: number): Word => (word ??= { op: false, v: '', line, redirect: -1 });
  const flush = () => {
    if (word) out.push(word);
    word = null;
  };
  const at = (i: number) => (i < chars.length ? chars[i].c : '');
  for (let i = 0; i < chars.length; i++) {
    const { c, line } = chars[i];
    if (c === "'") {
      const w = start(line);
      for (i++; i < chars.length && chars[i].c !== "'"; i++) w.v += chars[i].c;
    } else if (c === '"') {
      const w = start(line);
      for (i++; i < chars.length && chars[i].c !== '"'; i++) {
        if (chars[i].c === '\\' && '"\\$`\n'.includes(at(i + 1))) {
          i++;
          if (chars[i].c !== '\n') w.v += chars[i].c;
        } else w.v += chars[i].c;
      }
    } else if (c === '\\') {
      if (at(i + 1) === '\n') i++;
      else if (i + 1 < chars.length) start(line).v += chars[++i].c;
    } else if (c === '`') {
      const w = start(line);
      w.v += c;
      for (i++; i < chars.length && chars[i].c !== '`'; i++) w.v += chars[i].c;
      w.v += '`';
    } else if (c === '$' && at(i + 1) === '(') {
      // $( ... ): kept inside the word, balanced
      const w = start(line);
      let depth = 0;
      for (; i < chars.length; i++) {
        w.v += chars[i].c;
        if (chars[i].c === '(') depth++;
        else if (chars[i].c === ')' && --depth === 0) break;
      }
    } else if (c === ' ' || c === '\t' || c === '\r') {
      flush();
    } else if (c === '\n') {
      flush();
      out.push({ op: true, v: ';', line });
    } else if (c === '#' && word === null) {
      while (i + 1 < chars.length && chars[i + 1].c !== '\n') i++;
    } else if (c === '<' || c === '>') {
      const w = start(line);
      if (w.redirect < 0) w.redirect = w.v.length;
      w.v += c;
    } else if (c === '&' && (at(i + 1) === '>' || (word !== null && /[<>]$/.test((word as Word).v)))) {
      const w = start(line);
      if (w.redirect < 0 && at(i + 1) === '>') w.redirect = w.v.length;
      w.v += c;
    } else if (c === '&' || c === '|' || c === ';' || c === '(' || c === ')') {
      flush();
      const two = c + at(i + 1);
      if (two === '&&' || two === '||' || two === ';;') {
        out.push({ op: true, v: two, line });
        i++;
      } else out.push({ op: true, v: c, line });
    } else {
      start(line).v += c;
    }
  }
  flush();
  return out;
}

interface Command {
  words: Word[];
  /** Runs only when an earlier command failed: after ||, or inside a group that follows ||. */
  fallback: boolean;
}

function commands(tokens: Token[], inherited = false): Command[] {
  const out: Command[] = [];
  const groups: boolean[] = [];
  let words: Word[] = [];
  let prev = '';
  const inFallback = () => inherited || groups.some(Boolean);
  const end = () => {
    if (words.length) out.push({ words, fallback: prev === '||' || inFallback() });
    words = [];
  };
  for (const t of tokens) {
    if (!t.op && words.length === 0 && (t.v === '{' || t.v === '}')) {
      if (t.v === '{') groups.push(prev === '||');
      else groups.pop();
      prev = t.v === '{' ? prev : ';';
      continue;
    }
    if (!t.op) {
      words.push(t);
      continue;
    }
    end();
    if (t.v === '(') groups.push(prev === '||');
    else if (t.v === ')') groups.pop();
    if (t.v !== '(') prev = t.v;
  }
  end();
  return out;
}

const PIP_GLOBAL_VALUE_OPTS = new Set(['--cache-dir', '--log', '--proxy', '--timeout', '--retries', '--exists-action', '--cert', '--client-cert', '--trusted-host', '--python', '--keyring-provider', '--use-feature', '--use-deprecated', '--directory', '--project', '--config-file', '--color']);
const PIP_INSTALL_VALUE_OPTS = new Set([
  '-r', '--requirement', '-c', '--constraint', '-i', '--index-url', '--extra-index-url', '-f', '--find-links', '-t', '--target',
  '--prefix', '--root', '--src', '--upgrade-strategy', '--platform', '--python-version', '--implementation', '--abi',
  '--only-binary', '--no-binary', '--progress-bar', '--global-option', '--install-option', '-C', '--config-settings',
  '--report', '--root-user-action', '--index', '--default-index', '--index-strategy', '--torch-backend', '--resolution',
  '--prerelease', '-p', '--python-platform', '--link-mode', '--exclude-newer', '--override', '--overrides', '-b',
  '--build-constraint', '--build-constraints', '--extra', '--group', '-P', '--upgrade-package', '--reinstall-package',
  '--refresh-package', '--no-build-isolation-package', ...PIP_GLOBAL_VALUE_OPTS,
]);
const INDEX_OPTS = new Set(['-i', '--index-url', '--extra-index-url', '-f', '--find-links', '--index', '--default-index']);

const basename = (w: string) => w.replace(/^.*\//, '');

/** Offset of the first install argument when the command is a pip install, else -1. */
function pipInstallStart(words: Word[]): number {
  let k = 0;
  const v = (i: number) => (i < words.length ? words[i].v : '');
  const skipOptions = (values: Set<string>) => {
    while (k < words.length && v(k).startsWith('-') && v(k) !== '-m' && !v(k).startsWith('-m')) {
      k += values.has(v(k)) ? 2 : 1;
    }
  };
  for (;;) {
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(v(k))) k++;
    else if (['sudo', 'env', 'time', 'exec', 'command', 'nice', 'nohup'].includes(basename(v(k)))) {
      k++;
      while (v(k).startsWith('-')) k++;
    } else break;
  }
  if (k >= words.length) return -1;
  const head = basename(v(k));
  if (/^pip[0-9.]*$/.test(head)) {
    k++;
  } else if (head === 'uv') {
    k++;
    skipOptions(PIP_GLOBAL_VALUE_OPTS);
    if (v(k) !== 'pip') return -1;
    k++;
  } else {
    // python3 -m pip, "$PYTHON" -m pip, python -mpip
    k++;
    while (k < words.length && v(k).startsWith('-') && v(k) !== '-m' && !/^-mpip$/.test(v(k))) k += ['-X', '-W'].includes(v(k)) ? 2 : 1;
    if (v(k) === '-m' && v(k + 1) === 'pip') k += 2;
    else if (v(k) === '-mpip') k++;
    else return -1;
  }
  skipOptions(PIP_GLOBAL_VALUE_OPTS);
  return v(k) === 'install' ? k + 1 : -1;
}

/** `sh -c "..."` and `bash -ec '...'`: the script argument, to be read as shell too. */
function shellScript(words: Word[]): Word | null {
  if (!/^(sh|bash|dash|ash|zsh)$/.test(basename(words[0]?.v ?? ''))) return null;
  for (let i = 1; i < words.length; i++) {
    if (/^-[a-z]*c[a-z]*$/.test(words[i].v)) return words[i + 1] ?? null;
    if (!words[i].v.startsWith('-')) return null;
  }
  return null;
}

interface Install {
  req: Requirement;
  verdict: Verdict;
  line: number;
  redirect: boolean;
}

function pipInstalls(words: Word[], start: number, lint: Lint): { installs: Install[]; index: string } {
  const installs: Install[] = [];
  const index: string[] = [];
  for (let k = start; k < words.length; k++) {
    const w = words[k];
    if (w.redirect === 0 || (w.redirect > 0 && /^[0-9&]+$/.test(w.v.slice(0, w.redirect)))) {
      // A redirection (> log, 2>&1, <<EOF): a bare operator takes the next word as its target.
      if (/^[0-9&]*[<>]+[&-]?$/.test(w.v)) k++;
      continue;
    }
    if (w.v.startsWith('-')) {
      const eq = w.v.indexOf('=');
      const opt = eq > 0 ? w.v.slice(0, eq) : w.v;
      if (opt === '-e' || opt === '--editable') {
        if (eq < 0) k++;
        const target = eq > 0 ? w.v.slice(eq + 1) : words[k]?.v;
        if (target !== undefined) consider(target, eq > 0 ? w : words[k]);
        continue;
      }
      if (INDEX_OPTS.has(opt)) index.push(eq > 0 ? w.v.slice(eq + 1) : (words[k + 1]?.v ?? ''));
      if (eq < 0 && PIP_INSTALL_VALUE_OPTS.has(opt)) k++;
      continue;
    }
    consider(w.v, w);
  }
  return { installs, index: index.join(' ') };

  function consider(text: string, w: Word): void {
    const req = parseRequirement(text);
    if (!req || !lint.wanted.has(req.norm)) return;
    installs.push({ req, verdict: judge(req, lint), line: w.line, redirect: w.redirect > 0 });
  }
}

interface Instruction {
  /** Shell text of the RUN, as characters with the physical line each came from. */
  chars: Ch[];
  /** The exec form, RUN ["pip", "install", ...]: its words, no shell. */
  exec: Word[] | null;
}

const HEREDOC_RE = /<<(-?)\s*(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;

/** RUN instructions with continuations joined, comment lines inside them dropped, and shell heredocs. */
function runInstructions(text: string): Instruction[] {
  const lines = stripBom(text).split(/\r\n|\n|\r/);
  let escape = '\\';
  for (const l of lines) {
    const d = /^#\s*([A-Za-z]+)\s*=\s*(\S*)\s*$/.exec(l);
    if (!d) break;
    if (d[1].toLowerCase() === 'escape' && (d[2] === '`' || d[2] === '\\')) escape = d[2];
  }
  const continuation = escape === '`' ? /`[ \t]*$/ : /\\[ \t]*$/;
  const out: Instruction[] = [];
  let i = 0;
  while (i < lines.length) {
    const first = lines[i].trim();
    if (first === '' || first.startsWith('#')) {
      i++;
      continue;
    }
    const startLine = i + 1;
    const chars: Ch[] = [];
    for (;;) {
      const raw = lines[i];
      const cont = continuation.exec(raw);
      const part = cont ? raw.slice(0, cont.index) : raw;
      for (const c of part) chars.push({ c, line: i + 1 });
      i++;
      if (!cont) break;
      while (i < lines.length && (lines[i].trim() === '' || lines[i].trim().startsWith('#'))) i++;
      if (i >= lines.length) break;
    }
    const joined = chars.map((x) => x.c).join('');
    const kw = /^\s*(?:ONBUILD\s+)?(RUN|COPY|ADD)(?:\s+|$)/i.exec(joined);
    if (!kw) continue;
    let body = chars.slice(kw[0].length);
    // Flags (--mount=..., --network=...) are not shell.
    const flags = /^(?:--[a-z-]+(?:=\S*)?\s+)*/.exec(body.map((x) => x.c).join(''));
    body = body.slice(flags ? flags[0].length : 0);
    const bodyText = body.map((x) => x.c).join('');
    const isRun = kw[1].toUpperCase() === 'RUN';

    // Heredocs (RUN, COPY, ADD): their lines follow the instruction. They are this RUN's shell script
    // for RUN <<EOF and RUN sh <<EOF; otherwise (python3 <<EOF, cat > f <<EOF, COPY) they are data.
    const script: Ch[] = [...body];
    [...bodyText.matchAll(HEREDOC_RE)].forEach((h, n) => {
      const doc: Ch[] = [];
      while (i < lines.length && (h[1] ? lines[i].replace(/^\t+/, '') : lines[i]).trim() !== h[3]) {
        for (const c of lines[i]) doc.push({ c, line: i + 1 });
        doc.push({ c: '\n', line: i + 1 });
        i++;
      }
      i++;
      const before = bodyText.slice(0, h.index).trim();
      if (isRun && n === 0 && (before === '' || /^(?:\S*\/)?(?:sh|bash|dash|ash)(?:\s+-[a-z]+)*$/.test(before))) {
        script.push({ c: '\n', line: startLine }, ...doc);
      }
    });
    if (!isRun) continue;

    let exec: Word[] | null = null;
    if (bodyText.trim().startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(bodyText);
        if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) {
          let from = 0;
          exec = (parsed as string[]).map((v) => {
            const at = bodyText.indexOf(JSON.stringify(v), from);
            if (at >= 0) from = at + 1;
            return { op: false, v, line: at >= 0 ? body[at].line : startLine, redirect: -1 };
          });
        }
      } catch {
        exec = null;
      }
    }
    out.push({ chars: script, exec });
  }
  return out;
}

interface EarlierPin {
  shown: string;
  version: string;
  index: string;
}

/** The problem with a pip install that runs only when an earlier one failed, or null for a plain retry. */
function fallbackProblem(ins: Install, earlier: EarlierPin, index: string): string | null {
  const what = `${ins.req.name} falls back to \`|| pip install ${ins.req.display}\` after \`${earlier.shown}\``;
  const silently = `if the pinned install fails, the build silently installs another ${ins.req.name}; drop the fallback so the build fails`;
  if (ins.verdict.kind !== 'exact') return `${what} without an exact pin: ${silently}`;
  if (ins.verdict.version !== earlier.version) return `${what}, another version: ${silently}`;
  if (index !== earlier.index) {
    return `${what} from another index (${index || 'the default index'} instead of ${earlier.index || 'the default index'}): ${silently}`;
  }
  return null;
}

function lintCommands(cmds: Command[], lint: Lint, findings: PinFinding[], pinned: Map<string, EarlierPin>): void {
  for (const cmd of cmds) {
    const script = shellScript(cmd.words);
    if (script) {
      const chars = [...script.v].map((c) => ({ c, line: script.line }));
      lintCommands(commands(tokenize(chars), cmd.fallback), lint, findings, pinned);
      continue;
    }
    const start = pipInstallStart(cmd.words);
    if (start < 0) continue;
    const { installs, index } = pipInstalls(cmd.words, start, lint);
    for (const ins of installs) {
      const earlier = pinned.get(ins.req.norm);
      let problem = ins.verdict.problem;
      if (cmd.fallback && earlier) problem = fallbackProblem(ins, earlier, index) ?? problem;
      if (problem && ins.redirect) {
        problem += `; unquoted, the shell reads the < or > as a redirection and pip installs plain ${ins.req.name}: quote it`;
      }
      if (problem) findings.push({ file: lint.file, line: ins.line, package: ins.req.name, problem });
      if (ins.verdict.kind === 'exact' && !earlier) {
        pinned.set(ins.req.norm, { shown: `pip install ${ins.req.display}`, version: ins.verdict.version, index });
      }
    }
  }
}

export function lintDockerfile(text: string, file: string, packages: string[], planned: Planned): PinFinding[] {
  const lint = makeLint(file, packages, planned);
  const findings: PinFinding[] = [];
  for (const run of runInstructions(text)) {
    const cmds = run.exec ? [{ words: run.exec, fallback: false }] : commands(tokenize(run.chars));
    lintCommands(cmds, lint, findings, new Map());
  }
  return byLine(findings);
}

// ---------------------------------------------------------------------------------------------
// The build context
// ---------------------------------------------------------------------------------------------

const SKIP_DIRS = new Set(['.git', 'node_modules', '__pycache__', '.venv', 'venv', '.tox', '.nox']);
const MAX_DEPTH = 4;

type Kind = 'requirements' | 'pyproject';

/** requirements*.txt, constraints*.txt, *-requirements.txt, *.requirements.txt, requirements/*.txt, pyproject.toml */
function kindOf(name: string, dirName: string): Kind | null {
  if (name === 'pyproject.toml') return 'pyproject';
  if (!/\.txt$/i.test(name)) return null;
  if (/^(requirements|constraints)/i.test(name) || /[._-](requirements|constraints)\.txt$/i.test(name)) return 'requirements';
  return /^requirements$/i.test(dirName) ? 'requirements' : null;
}

/**
 * Lints every requirements/constraints file and pyproject.toml under contextDir (at most four
 * directories deep; .git, node_modules, __pycache__ and virtualenvs skipped) and the Dockerfile.
 * Files are named relative to contextDir when inside it.
 */
export function lintContext(
  contextDir: string,
  dockerfile: string,
  packages: string[],
  planned: Planned,
  // Regular files only, bounded, links kept inside the context (files.ts).
  fs: FileSystem = contextFiles(contextDir, dockerfile, workspaceOf()),
): PinFinding[] {
  const findings: PinFinding[] = [];
  const walk = (dir: string, rel: string, depth: number) => {
    const entries = [...fs.list(dir)].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = nodePath.join(dir, e.name);
      const name = rel ? `${rel}/${e.name}` : e.name;
      if (e.dir) {
        if (!SKIP_DIRS.has(e.name) && depth < MAX_DEPTH) walk(full, name, depth + 1);
        continue;
      }
      const kind = kindOf(e.name, nodePath.basename(dir));
      if (kind === 'requirements') findings.push(...lintRequirements(fs.read(full), name, packages, planned));
      else if (kind === 'pyproject') findings.push(...lintPyproject(fs.read(full), name, packages, planned));
    }
  };
  walk(contextDir, '', 0);

  const rel = nodePath.relative(nodePath.resolve(contextDir), nodePath.resolve(dockerfile));
  const inside = rel !== '' && !rel.startsWith('..') && !nodePath.isAbsolute(rel);
  const shown = inside ? rel.split(nodePath.sep).join('/') : dockerfile;
  findings.push(...lintDockerfile(fs.read(dockerfile), shown, packages, planned));
  return findings;
}

/** One "file:line: problem" per line. */
export function formatFindings(findings: PinFinding[]): string {
  return findings.map((f) => `${f.file}:${f.line}: ${f.problem}`).join('\n');
}
