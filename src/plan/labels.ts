import type { RunContext } from '../context';

export interface LabelOptions {
  /** org.opencontainers.image.version, usually TagPlan.version. */
  version: string;
  /** org.opencontainers.image.created, UTC ISO-8601 (isoSeconds(now)). */
  created: string;
  /** Default: the repository name (event payload, else the part of GITHUB_REPOSITORY after the /). */
  title?: string;
  /** Default: the event's repository.description. */
  description?: string;
  /** Default: the event's repository.license.spdx_id, unless GitHub could not name it (NOASSERTION). */
  licenses?: string;
  /** Added last; they win over the labels above, and one set to '' removes that label. */
  extra?: Record<string, string>;
}

export interface TorchLabels {
  torch: string;
  torchaudio: string;
  torchvision?: string;
}

/**
 * The image's labels: the OCI annotations docker/metadata-action sets (source, revision, created,
 * version, title, description, licenses, url) and the torch versions it was built for. An option
 * given as '' counts as not given (so unset inputs fall back to the event), and a label whose
 * value would be empty is left out. Keys come in a fixed order: OCI ones, torch ones, then extras.
 * Per-platform labels (variant, platform) are added where each platform is built.
 */
export function planLabels(ctx: RunContext, opts: LabelOptions, torch: TorchLabels): Record<string, string> {
  const source = ctx.repository ? `${ctx.serverUrl.replace(/\/+$/, '')}/${ctx.repository}` : '';
  const spdx = ctx.event.license && ctx.event.license !== 'NOASSERTION' ? ctx.event.license : '';
  const repoName = ctx.event.repositoryName || ctx.repository.split('/').slice(1).join('/');
  const all: Record<string, string | undefined> = {
    'org.opencontainers.image.source': source,
    'org.opencontainers.image.revision': ctx.sha,
    'org.opencontainers.image.created': opts.created,
    'org.opencontainers.image.version': opts.version,
    'org.opencontainers.image.title': opts.title || repoName,
    'org.opencontainers.image.description': opts.description || ctx.event.description,
    'org.opencontainers.image.licenses': opts.licenses || spdx,
    'org.opencontainers.image.url': ctx.event.htmlUrl || source,
    'io.ml-image-build.torch.version': torch.torch,
    'io.ml-image-build.torchaudio.version': torch.torchaudio,
    'io.ml-image-build.torchvision.version': torch.torchvision,
    ...opts.extra,
  };
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(all)) if (v && v.trim()) labels[k] = v;
  return labels;
}
