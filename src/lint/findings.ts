/** What pin lint reports: one finding per file and line, and how findings are written out. */
import * as path from 'path';

export const DEFAULT_PINNED = ['torch', 'torchaudio', 'torchvision', 'pyannote.audio', 'openai-whisper'];

export interface PinFinding {
  file: string;
  /** 1-based. */
  line: number;
  /** As written in the file; empty when the finding is about the whole file (not valid TOML). */
  package: string;
  /** A sentence, e.g. "torch>=2.1 is a range; pin it exactly (torch==2.2.2)". */
  problem: string;
}

/** planned: public versions the plan will install, e.g. { torch: '2.2.2', torchaudio: '2.2.2' }; packages absent here only need an exact pin. */
export type Planned = Record<string, string>;

export function byLine(findings: PinFinding[]): PinFinding[] {
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => a.f.line - b.f.line || a.i - b.i)
    .map((x) => x.f);
}

/** One "file:line: problem" per line. */
export function formatFindings(findings: PinFinding[]): string {
  return findings.map((f) => `${f.file}:${f.line}: ${f.problem}`).join('\n');
}

/** One workflow-command annotation (core.error or core.warning with these properties). */
export interface Annotation {
  level: 'error' | 'warning';
  message: string;
  properties: { title: string; file?: string; startLine?: number };
}

export interface Where {
  /** The path of each finding's file as pin lint read it (relative to cwd or absolute). */
  pathOf: (file: string) => string;
  /** The repository root (GITHUB_WORKSPACE) GitHub places annotations by. */
  workspace: string;
  cwd: string;
}

/**
 * One annotation per finding, so it shows on the pull request's diff at its file and line:
 * an error when pin lint fails the plan, a warning when it only warns. GitHub places an
 * annotation by the path relative to the repository root; a file outside it keeps the message
 * and goes without a place.
 */
export function pinAnnotations(findings: PinFinding[], mode: 'error' | 'warn', where: Where): Annotation[] {
  return findings.map((f) => {
    const file = repositoryPath(where.pathOf(f.file), where.workspace, where.cwd);
    return {
      level: mode === 'error' ? 'error' : 'warning',
      message: `${f.file}:${f.line}: ${f.problem}`,
      properties: file ? { title: 'pin lint', file, startLine: f.line } : { title: 'pin lint' },
    };
  });
}

/**
 * A file's path as GitHub places annotations: relative to the repository root, with `/`.
 * Undefined for a file outside it (an absolute path would place the annotation nowhere).
 */
export function repositoryPath(file: string, workspace: string, cwd: string): string | undefined {
  const rel = path.relative(workspace, path.resolve(cwd, file));
  const inside = rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  return inside ? rel.split(path.sep).join('/') : undefined;
}
