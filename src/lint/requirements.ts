/** requirements.txt and constraints.txt files. */
import type { PinFinding, Planned } from './findings';
import { judge, makeLint, parseRequirement, stripBom } from './requirement';

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
