import type { Plan } from '../plan/plan';
import type { Attached } from '../publish/attach';
import type { GpuProbe } from '../verify/gpu';
import { sizeMarkdown, type SizeReport } from '../verify/size';
import type { HygieneReport, PlatformVerification } from '../verify/verify';
import type { Published, PushSummary } from '../publish/publish';
import { formatBytes } from '../publish/progress';
import type { Expectation } from '../plan/torch';

export interface PlatformReport {
  /** The image's name in ml-image.yml ('default' without one). */
  name: string;
  platform: string;
  variant: string;
  image: string;
  /** The local image ID that was verified (what the pushed config or manifest digest is checked against). */
  imageId: string | null;
  digest: string | null;
  expected: Expectation;
  seen: { torch: string | null; torchaudio: string | null; cuda: string | null; machine: string | null };
  ping: { status: number; body: unknown } | null;
  passed: boolean;
  findings: PlatformVerification['findings'];
  timings: { buildSeconds: number | null; readySeconds: number | null; verifySeconds: number | null };
  /** How the image reached the registry (null when it was not pushed). */
  push: PushSummary | null;
  /** What the hygiene checks saw (user, model cache, health, offline, memory); null when not verified. */
  hygiene: HygieneReport | null;
  /** The GPU lane: device, capability, arch list, matmul error; null when it did not run. */
  gpu: GpuProbe | null;
  /** Sizes, largest layers with the instruction that made each, growth, budget. */
  size: SizeReport | null;
  /** The user's declared checks: name, passed, attempts. */
  checks: { name: string; passed: boolean; attempts: number }[];
  /** The verification report attached to the pushed image as an OCI artifact (null when not attached). */
  referrer: Attached | null;
}

export interface Timings {
  build?: number;
  verify?: number;
}

/** The `report` output: one entry per platform, in plan order. Pure. */
export function buildReport(
  plan: Plan,
  results: Map<string, PlatformVerification>,
  timings: Map<string, Timings>,
  published?: Published,
  pushes?: Record<string, PushSummary>,
  imageIds?: Map<string, string>,
  referrers?: Map<string, Attached>,
): PlatformReport[] {
  return plan.platforms.map((p) => {
    const v = results.get(p.platform);
    const t = timings.get(p.platform) ?? {};
    const round = (n: number | undefined) => (n === undefined ? null : Math.round(n * 10) / 10);
    return {
      name: plan.name,
      platform: p.platform,
      variant: p.variant,
      image: p.ref,
      imageId: imageIds?.get(p.platform) ?? null,
      digest: published?.platforms[p.platform] ?? pushes?.[p.platform]?.digest ?? null,
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
      push: pushes?.[p.platform] ?? null,
      hygiene: v?.hygiene ?? null,
      gpu: v?.gpu ?? null,
      checks: v?.checks ?? [],
      size: v?.size ?? null,
      referrer: referrers?.get(p.platform) ?? null,
    };
  });
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

const FATE: Record<string, string> = {
  moved: 'moved to the new list',
  already: 'already on the new list',
  unchanged: 'not moved',
  restored: 'moved, then put back',
  removed: 'created, then removed again',
  left: 'created; the registry cannot remove it',
  failed: 'its move failed',
  unknown: 'could not be read back',
};

function pushLine(platform: string, s: PushSummary): string {
  if (s.via === 'buildkit') return `- ${platform}: \`${s.digest}\`, pushed by BuildKit from its cache in ${s.seconds.toFixed(1)}s`;
  if (s.via === 'already-in-registry') return `- ${platform}: \`${s.digest}\`, already in the registry (nothing uploaded)`;
  const parts = [`${s.uploaded} layer(s) uploaded (${formatBytes(s.bytesSent)})`];
  if (s.reused) parts.push(`${s.reused} already there`);
  if (s.mounted) parts.push(`${s.mounted} mounted`);
  return `- ${platform}: \`${s.digest}\`, ${parts.join(', ')} in ${s.seconds.toFixed(1)}s`;
}

/** Markdown for the job summary: one row per platform, then what was published and where every tag points. Pure. */
/** Where a run that failed stopped, so the summary names the cause instead of guessing one. */
export interface Stopped {
  phase: string;
  message: string;
  cancelled?: boolean;
}

export function summaryMarkdown(
  plan: Plan,
  report: PlatformReport[],
  published?: Published,
  pushRequested = true,
  pushes?: Record<string, PushSummary>,
  stopped?: Stopped,
): string {
  const lines = [
    `### ml-image-build: ${plan.image.name}`,
    '',
    '| platform | variant | torch | torchaudio | CUDA | ping | build s | ready s | result |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of report) {
    const result = r.passed
      ? 'passed'
      : r.findings.length
        ? `failed: ${r.findings.map((f) => `${f.check} (expected ${f.expected}, got ${f.actual})`).join('; ')}`
        : 'not verified';
    lines.push(
      `| ${r.platform} | ${r.variant} | ${r.seen.torch ?? '-'} | ${r.seen.torchaudio ?? '-'} | ${r.seen.cuda ?? 'none'} | ${r.ping ? r.ping.status : '-'} | ${r.timings.buildSeconds ?? '-'} | ${r.timings.readySeconds ?? '-'} | ${cell(result)} |`,
    );
  }
  lines.push('');
  const hygiene = report.filter((r) => r.hygiene);
  if (hygiene.length) {
    lines.push('| platform | user | model cache | healthy after | offline | memory peak / limit |', '| --- | --- | --- | --- | --- | --- |');
    for (const r of hygiene) {
      const h = r.hygiene!;
      const cache = h.modelCache
        ? `${h.modelCache}: ${h.cacheWritable === undefined ? 'not checked' : h.cacheWritable ? 'writable' : 'not writable'}`
        : 'not checked';
      // In MiB: the unit docker's --memory limits are written in.
      const mib = (n: number) => `${(n / 2 ** 20).toFixed(n < 10 * 2 ** 20 ? 1 : 0)} MiB`;
      const mem = `${h.peakMemory ? mib(h.peakMemory) : '-'} / ${h.memoryLimit ? mib(h.memoryLimit) : 'no limit'}`;
      lines.push(
        `| ${r.platform} | ${cell(h.user)}${h.uid !== undefined ? ` (uid ${h.uid})` : ''} | ${cell(cache)} | ${h.healthySeconds !== undefined ? `${h.healthySeconds.toFixed(1)}s` : '-'} | ${h.offline ? 'yes' : 'no'} | ${mem} |`,
      );
    }
    lines.push('');
  }
  for (const r of report) {
    if (r.checks.length)
      lines.push(
        `Checks, ${r.platform}: ${r.checks.map((c) => `${cell(c.name)} ${c.passed ? 'passed' : '**failed**'} (${c.attempts} attempt${c.attempts === 1 ? '' : 's'})`).join(', ')}`,
        '',
      );
    const g = r.gpu;
    if (g)
      lines.push(
        `GPU lane, ${r.platform}: ${g.available ? `${g.deviceName ?? 'device'} (${g.capability ? `sm_${g.capability.join('')}` : 'capability unknown'}), matmul max error ${g.matmulMaxAbsError ?? '-'}` : 'CUDA not available'}`,
        '',
      );
  }
  const sizes = report.flatMap((r) => (r.size ? [r.size] : []));
  if (sizes.length) lines.push(sizeMarkdown(sizes));
  const pushed = Object.entries(published?.pushes ?? pushes ?? {});
  if (published && published.complete && published.tagReport.length === 0) {
    // platform mode: the merge job tags the list
    lines.push(`Pushed by digest, without a tag: \`${published.digest}\`.`);
  } else if (published && published.complete) {
    lines.push(`Published manifest list \`${published.digest}\` as:`, '', ...published.tags.map((t) => `- \`${t}\``));
  } else if (published) {
    lines.push(
      `**Not every tag could be moved** (${cell(published.error ?? 'unknown error')}). Where each tag of \`${plan.image.name}\` points now:`,
      '',
      '| tag | before | now | what happened |',
      '| --- | --- | --- | --- |',
      ...published.tagReport.map(
        (t) =>
          `| ${t.tag} | ${t.before ?? '(absent)'} | ${t.now === published.digest ? `${t.now} (new list)` : (t.now ?? '(absent)')} | ${FATE[t.fate] ?? t.fate} |`,
      ),
    );
  } else if (pushed.length) {
    lines.push('Platform images were pushed by digest, but no tag was moved: no tag a user can pull names them.');
  } else if (!pushRequested) {
    lines.push('Nothing was published: `push` is false.');
  } else {
    // Verification is blamed only when a platform has findings; a login, build or push failure
    // after every platform passed is named as what it was.
    const failed = report.some((r) => r.findings.length > 0);
    const why = failed
      ? 'not every platform passed verification'
      : stopped
        ? stopped.cancelled
          ? `the run was cancelled during ${stopped.phase}`
          : `the run stopped during ${stopped.phase} (${cell(stopped.message.split('\n')[0])})`
        : 'the run ended before every platform image was pushed';
    lines.push(`Nothing was published: ${why}; no tag was moved.`);
  }
  if (pushed.length) lines.push('', ...pushed.map(([platform, s]) => pushLine(platform, s)));
  const attached = report.filter((r) => r.referrer);
  if (attached.length) {
    lines.push('', 'Verification reports attached (OCI artifacts whose subject is the platform image; `oras discover` lists them):', '');
    for (const r of attached)
      lines.push(
        `- ${r.platform}: \`${r.referrer!.digest}\` (${r.referrer!.via === 'referrers-api' ? "the registry's referrers API" : `referrers tag \`${r.referrer!.tag ?? ''}\``})`,
      );
  }
  return lines.join('\n') + '\n';
}
