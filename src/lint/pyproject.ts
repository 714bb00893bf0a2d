/**
 * pyproject.toml: PEP 621 dependencies, PEP 735 groups, uv's lists and Poetry's tables. Read with
 * toml-eslint-parser, which keeps the line of every key and array item for the findings.
 */
import { ParseError, parseTOML, type AST } from 'toml-eslint-parser';
import { byLine, type PinFinding, type Planned } from './findings';
import { againstPlan, judge, makeLint, normalize, parseRequirement, stripBom, suggestion, type Lint } from './requirement';

type Node = AST.TOMLContentNode;

/** A key as its parts: `"pyannote.audio".version` is ["pyannote.audio", "version"]. */
const keyOf = (key: AST.TOMLKey): string[] => key.keys.map((k) => (k.type === 'TOMLBare' ? k.name : k.value));
const lineOf = (node: AST.TOMLNode): number => node.loc.start.line;
const isString = (node: Node): node is AST.TOMLStringValue => node.type === 'TOMLValue' && node.kind === 'string';

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

function lintPoetryDependency(name: string, value: Node, line: number, lint: Lint, out: PinFinding[]): void {
  const norm = normalize(name);
  const push = (l: number, problem: string | null) => {
    if (problem) out.push({ file: lint.file, line: l, package: name, problem });
  };
  if (isString(value)) {
    push(line, judgePoetryConstraint(name, norm, value.value, `${name} = "${value.value}"`, lint));
  } else if (value.type === 'TOMLInlineTable') {
    const single = (kv: AST.TOMLKeyValue) => (kv.key.keys.length === 1 ? keyOf(kv.key)[0] : null);
    const version = value.body.find((kv) => single(kv) === 'version');
    if (version && isString(version.value)) {
      push(line, judgePoetryConstraint(name, norm, version.value.value, `${name} = { version = "${version.value.value}" }`, lint));
    } else {
      const source = value.body.map(single).find((k) => k !== null && ['git', 'url', 'path'].includes(k));
      const what = source ? `a ${source} dependency without a version` : 'a table without a version';
      push(line, `${name} is unpinned (${what}); ${suggestion(name, lint, norm, true)}`);
    }
  } else if (value.type === 'TOMLArray') {
    // Multiple-constraints form: each alternative must be exact.
    for (const item of value.elements) lintPoetryDependency(name, item, lineOf(item), lint, out);
  }
}

/**
 * Findings for one pyproject.toml. A file that is not TOML (1.0, what pip and uv read) is one
 * finding at the line the parser stopped: its pins cannot be read, and pip would refuse it too.
 */
export function lintPyproject(text: string, file: string, packages: string[], planned: Planned): PinFinding[] {
  const lint = makeLint(file, packages, planned);
  const findings: PinFinding[] = [];
  let program: AST.TOMLProgram;
  try {
    program = parseTOML(stripBom(text), { tomlVersion: '1.0' });
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    return [{ file, line: e.lineNumber, package: '', problem: `not valid TOML (${e.message}); pin lint cannot read its pins` }];
  }
  /** Poetry dependencies written as sub-tables or dotted keys: [tool.poetry.dependencies.torch] version = "..." */
  const split = new Map<string, { name: string; line: number; version: { v: string; line: number } | null; source: string | null }>();

  const visit = (path: string[], value: Node, line: number) => {
    if (isPep508List(path) && value.type === 'TOMLArray') {
      for (const item of value.elements) {
        if (!isString(item)) continue;
        const req = parseRequirement(item.value);
        if (!req || !lint.wanted.has(req.norm)) continue;
        const verdict = judge(req, lint);
        if (verdict.problem) findings.push({ file, line: lineOf(item), package: req.name, problem: verdict.problem });
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
      if (path[i + 1] === 'version' && isString(value)) entry.version = { v: value.value, line };
      if (['git', 'url', 'path'].includes(path[i + 1])) entry.source = path[i + 1];
      split.set(id, entry);
      return;
    }
    if (value.type === 'TOMLInlineTable') for (const kv of value.body) visit([...path, ...keyOf(kv.key)], kv.value, lineOf(kv));
  };

  for (const node of program.body[0].body) {
    if (node.type === 'TOMLKeyValue') {
      visit(keyOf(node.key), node.value, lineOf(node));
      continue;
    }
    // [[array.tables]] hold no dependency lists pin lint reads: their path keeps the index, so nothing matches.
    const path = node.resolvedKey.map(String);
    const i = poetryPackageIndex(path);
    if (i >= 0 && path.length === i + 1 && lint.wanted.has(normalize(path[i]))) {
      const id = path.join('\u0000');
      if (!split.has(id)) split.set(id, { name: path[i], line: lineOf(node), version: null, source: null });
    }
    for (const kv of node.body) visit([...path, ...keyOf(kv.key)], kv.value, lineOf(kv));
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
