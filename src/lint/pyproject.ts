/** pyproject.toml: PEP 621 dependencies, PEP 735 groups, uv's lists and Poetry's tables. */
import { byLine, type PinFinding, type Planned } from './findings';
import { againstPlan, judge, makeLint, normalize, parseRequirement, stripBom, suggestion, type Lint } from './requirement';

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
