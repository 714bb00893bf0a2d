import type { Plan } from '../plan/plan';
import type { PlatformVerification } from '../verify/verify';
import type { Published } from '../publish/publish';
import type { Expectation } from '../plan/torch';

export interface PlatformReport {
  /** The image's name in ml-image.yml ('default' without one). */
  name: string;
  platform: string;
  variant: string;
  image: string;
  digest: string | null;
  expected: Expectation;
  seen: { torch: string | null; torchaudio: string | null; cuda: string | null; machine: string | null };
  ping: { status: number; body: unknown } | null;
  passed: boolean;
  findings: PlatformVerification['findings'];
  timings: { buildSeconds: number | null; readySeconds: number | null; verifySeconds: number | null };
}

export interface Timings {
  build?: number;
  verify?: number;
}

/** The `report` output: one entry per platform, in plan order. Pure. */
export function buildReport(plan: Plan, results: Map<string, PlatformVerification>, timings: Map<string, Timings>, published?: Published): PlatformReport[] {
  return plan.platforms.map((p) => {
    const v = results.get(p.platform);
    const t = timings.get(p.platform) ?? {};
    const round = (n: number | undefined) => (n === undefined ? null : Math.round(n * 10) / 10);
    return {
      name: plan.name,
      platform: p.platform,
      variant: p.variant,
      image: p.ref,
      digest: published?.platforms[p.platform] ?? null,
      expected: p.expect,
      seen: {
        torch: v?.probe?.torch ?? null,
        torchaudio: v?.probe?.torchaudio ?? null,
        cuda: v?.probe?.cuda ?? null,
        machine: v?.probe?.machine ?? null,
      },
      ping: v?.ping ?? null,
      passed: v?.passed ?? false,
      findings: v?.findings ?? [],
      timings: { buildSeconds: round(t.build), readySeconds: round(v?.readySeconds), verifySeconds: round(t.verify) },
    };
  });
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

/** Markdown for the job summary: one row per platform, then what was published. Pure. */
export function summaryMarkdown(plan: Plan, report: PlatformReport[], published?: Published, pushRequested = true): string {
  const lines = [
    `### ml-image-build: ${plan.image.name}`,
    '',
    '| platform | variant | torch | torchaudio | CUDA | ping | build s | ready s | result |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of report) {
    const result = r.passed ? 'passed' : r.findings.length ? `failed: ${r.findings.map((f) => `${f.check} (expected ${f.expected}, got ${f.actual})`).join('; ')}` : 'not verified';
    lines.push(
      `| ${r.platform} | ${r.variant} | ${r.seen.torch ?? '-'} | ${r.seen.torchaudio ?? '-'} | ${r.seen.cuda ?? 'none'} | ${r.ping ? r.ping.status : '-'} | ${r.timings.buildSeconds ?? '-'} | ${r.timings.readySeconds ?? '-'} | ${cell(result)} |`,
    );
  }
  lines.push('');
  if (published && published.tags.length === 0) {
    // platform mode: the merge job tags the list
    lines.push(`Pushed by digest, without a tag: \`${published.digest}\`.`);
  } else if (published) {
    lines.push(`Published manifest list \`${published.digest}\` as:`, '', ...published.tags.map((t) => `- \`${t}\``));
  } else {
    lines.push(pushRequested ? 'Nothing was published: not every platform passed verification.' : 'Nothing was published: `push` is false.');
  }
  return lines.join('\n') + '\n';
}
