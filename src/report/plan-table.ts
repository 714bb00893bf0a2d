import type { Plan } from '../plan/plan';
import { describeSource } from '../plan/preflight';

const cell = (s: string) => s.replace(/\|/g, '\\|');
const cuda = (c: string | null) => c ?? 'none';

/**
 * The plan as Markdown: per image its tags and whether it will be pushed, then a table of
 * platforms (variant, index, expectations) and a table of build args. Printed by `dry-run` to the
 * log and the job summary. Pure.
 */
export function planMarkdown(plans: Plan[]): string {
  const out: string[] = [];
  for (const plan of plans) {
    out.push(`### ${plan.name === 'default' ? '' : `${plan.name}: `}${plan.image.name}`, '');
    out.push(`- push: ${plan.push ? 'yes' : 'no'} (${plan.tagReason})`);
    out.push(`- tags: ${plan.tags.length ? plan.tags.map((t) => `\`${t}\``).join(', ') : '(none)'}`);
    out.push(`- torch wheels: ${describeSource(plan.wheelSource)}`);
    for (const w of plan.warnings) out.push(`- warning: ${w}`);
    // What the pushed config and manifests will carry, user labels and annotations merged in.
    out.push('', '| label | value |', '| --- | --- |');
    for (const [k, v] of Object.entries(plan.labels)) out.push(`| ${k} | \`${cell(v)}\` |`);
    out.push('- per platform also: io.ml-image-build.torch.variant, io.ml-image-build.platform');
    if (plan.annotations.length) {
      out.push('', '| annotation | on | value |', '| --- | --- | --- |');
      for (const a of plan.annotations) out.push(`| ${a.key} | ${a.level}${a.platform ? `[${a.platform}]` : ''} | \`${cell(a.value)}\` |`);
    }
    out.push('', '| platform | variant | expect torch | expect torchaudio | expect CUDA |', '| --- | --- | --- | --- | --- |');
    for (const p of plan.platforms) {
      out.push(`| ${p.platform} | ${p.variant} | ${p.expect.torch} | ${p.expect.torchaudio} | ${cuda(p.expect.cuda)} |`);
    }
    const names = [...new Set(plan.platforms.flatMap((p) => Object.keys(p.buildArgs)))];
    out.push('', `| build arg | ${plan.platforms.map((p) => p.platform).join(' | ')} |`, `| --- | ${plan.platforms.map(() => '---').join(' | ')} |`);
    for (const n of names) {
      out.push(`| ${n} | ${plan.platforms.map((p) => (n in p.buildArgs ? `\`${cell(p.buildArgs[n])}\`` : '-')).join(' | ')} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
