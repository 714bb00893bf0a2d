/** What pin lint reports: one finding per file and line, and how findings are written out. */

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
