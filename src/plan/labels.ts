import type { RunContext } from '../context';
import { InputError, shown } from '../errors';
import { MAX_META_KEY_CHARS, MAX_META_TOTAL_BYTES, MAX_META_VALUE_BYTES } from '../limits';

/**
 * The namespace of the labels the action sets itself (torch versions, variant, platform).
 * Verification and `docker inspect` readers take them as what was built, so a user label may not
 * set or remove one.
 */
export const OWN_LABEL_PREFIX = 'io.ml-image-build.';

/**
 * A label or annotation key: reverse-DNS style as the OCI image spec and Docker recommend
 * (org.opencontainers.image.title, com.example.team), letters, digits and . _ - between an
 * alphanumeric first and last character. Anything else (spaces, '=', quotes) would be split or
 * read differently by the buildx argv parser or a registry UI.
 */
const META_KEY_RE = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

/** Checks one user key and value (labels and annotations share the rules); returns the value's size. */
export function checkMetaPair(input: string, key: string, value: string, line: string): number {
  if (key.length > MAX_META_KEY_CHARS || !META_KEY_RE.test(key)) {
    throw new InputError(
      input,
      `${shown(key)} in ${shown(line)} is not a key; accepted: up to ${MAX_META_KEY_CHARS} of letters, digits and . _ - starting and ending with a letter or digit, such as org.opencontainers.image.description`,
    );
  }
  if (key.toLowerCase().startsWith(OWN_LABEL_PREFIX)) {
    throw new InputError(
      input,
      `${key} is in the ${OWN_LABEL_PREFIX}* namespace the action sets itself (torch versions, variant, platform: verification and readers of the image rely on them); accepted: any other key, such as org.opencontainers.image.* or your own com.example.*`,
    );
  }
  const bytes = Buffer.byteLength(value);
  if (bytes > MAX_META_VALUE_BYTES) throw new InputError(input, `the value of ${key} is ${bytes} bytes; accepted: at most ${MAX_META_VALUE_BYTES}`);
  return Buffer.byteLength(key) + bytes;
}

/**
 * The `labels` input, as docker/metadata-action's `labels` output writes it: one `key=value` per
 * line. Only newlines separate (a description may hold commas), the first '=' ends the key (a
 * value may hold more), `key=` removes that label (metadata-action writes an empty description
 * for a repository without one). A key given twice is refused: the last would win unseen.
 */
export function parseLabels(raw: string, input = 'labels'): Record<string, string> {
  const out: Record<string, string> = {};
  let total = 0;
  for (const line of raw
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)) {
    const eq = line.indexOf('=');
    if (eq <= 0) throw new InputError(input, `${shown(line)} is not key=value; accepted: one key=value per line, as docker/metadata-action's labels output`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    total += checkMetaPair(input, key, value, line);
    if (total > MAX_META_TOTAL_BYTES)
      throw new InputError(input, `the labels are over ${MAX_META_TOTAL_BYTES} bytes together; accepted: at most ${MAX_META_TOTAL_BYTES}`);
    if (key in out) throw new InputError(input, `${key} is given twice; accepted: one value per key`);
    out[key] = value;
  }
  return out;
}

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
  /** The `labels` input: added last, they win over the labels above; one set to '' removes that label. */
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
