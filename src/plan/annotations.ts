import { InputError, shown } from '../errors';
import { MAX_META_TOTAL_BYTES } from '../limits';
import { checkMetaPair } from './labels';
import { parsePlatform } from './platforms';

/**
 * Where an annotation goes, in docker/build-push-action's words:
 * - `manifest`: each platform image manifest (the default when a line names no type);
 * - `index`: the manifest list the tags point at;
 * - `manifest-descriptor`: each platform's entry in that list.
 * `index-descriptor` is refused: it annotates a descriptor of the index itself, which exists only
 * in an OCI layout's index.json; a registry push has none to write it into.
 */
export type AnnotationLevel = 'manifest' | 'index' | 'manifest-descriptor';
export const ANNOTATION_LEVELS: readonly AnnotationLevel[] = ['manifest', 'index', 'manifest-descriptor'];

export interface Annotation {
  level: AnnotationLevel;
  /** Only this platform's manifest (or list entry); undefined for every platform. */
  platform?: string;
  key: string;
  value: string;
}

const USAGE =
  "accepted: [TYPE[,TYPE][[PLATFORM]]:]KEY=VALUE per line, TYPE one of manifest (the default), index, manifest-descriptor, as docker/build-push-action's annotations input and docker/metadata-action's annotations output";

/**
 * The `annotations` input. Hand-written: the syntax is buildx's own (no maintained parser outside
 * Go), and it is small: an optional `types[platform]:` prefix before the first '=', then KEY=VALUE.
 * Lines are separated by newlines only, as a value may hold commas. One key given twice for the
 * same place is refused rather than letting the last win.
 */
export function parseAnnotations(raw: string, input = 'annotations'): Annotation[] {
  const out: Annotation[] = [];
  let total = 0;
  for (const line of raw
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)) {
    const eq = line.indexOf('=');
    if (eq <= 0) throw new InputError(input, `${shown(line)} is not KEY=VALUE; ${USAGE}`);
    const head = line.slice(0, eq);
    const value = line.slice(eq + 1).trim();
    // The prefix ends at the last ':' before the '=' (a key has no ':').
    const colon = head.lastIndexOf(':');
    const prefix = colon >= 0 ? head.slice(0, colon).trim() : '';
    const key = head.slice(colon + 1).trim();
    let levels: string[] = ['manifest'];
    let platform: string | undefined;
    if (colon >= 0) {
      const m = /^([a-z-]+(?:\s*,\s*[a-z-]+)*)\s*(?:\[([^\]]+)\])?$/.exec(prefix);
      if (!m) throw new InputError(input, `${shown(line)}: ${shown(prefix)} is not TYPE[,TYPE][[PLATFORM]]; ${USAGE}`);
      levels = m[1].split(',').map((t) => t.trim());
      if (m[2] !== undefined) platform = parsePlatform(m[2].trim(), input).platform;
    }
    for (const level of levels) {
      if (level === 'index-descriptor') {
        throw new InputError(
          input,
          `${shown(line)}: index-descriptor annotates the descriptor of the index in an OCI layout's index.json, which a registry push does not have; accepted: manifest, index, manifest-descriptor`,
        );
      }
      if (!(ANNOTATION_LEVELS as readonly string[]).includes(level))
        throw new InputError(input, `${shown(line)}: ${shown(level)} is not an annotation type; ${USAGE}`);
      if (level === 'index' && platform) {
        throw new InputError(
          input,
          `${shown(line)}: index annotations go on the one manifest list of all platforms, so they take no [PLATFORM]; accepted: index:KEY=VALUE, or manifest[${platform}]:KEY=VALUE for that platform's image`,
        );
      }
    }
    total += checkMetaPair(input, key, value, line);
    if (total > MAX_META_TOTAL_BYTES)
      throw new InputError(input, `the annotations are over ${MAX_META_TOTAL_BYTES} bytes together; accepted: at most ${MAX_META_TOTAL_BYTES}`);
    for (const level of new Set(levels) as Set<AnnotationLevel>) {
      if (out.some((a) => a.level === level && a.key === key && a.platform === platform)) {
        throw new InputError(
          input,
          `${key} is given twice for ${level}${platform ? `[${platform}]` : ''}; accepted: one value per key and place (a [PLATFORM] line overrides an unqualified one)`,
        );
      }
      out.push({ level, ...(platform ? { platform } : {}), key, value });
    }
  }
  return out;
}

/**
 * The annotations of one level, for one platform (undefined: the index). A platform's own line
 * wins over an unqualified one of the same key. Keys are sorted so the JSON they go into, and its
 * digest, do not depend on the order of the input's lines.
 */
export function annotationsFor(all: Annotation[], level: AnnotationLevel, platform?: string): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const a of all.filter((x) => x.level === level && !x.platform)) picked[a.key] = a.value;
  if (platform) for (const a of all.filter((x) => x.level === level && x.platform === platform)) picked[a.key] = a.value;
  return Object.fromEntries(
    Object.keys(picked)
      .sort()
      .map((k) => [k, picked[k]]),
  );
}

/** A platform named in an annotation line must be one that is built (else the line would do nothing unseen). */
export function checkAnnotationPlatforms(all: Annotation[], platforms: string[], input = 'annotations'): void {
  const stray = all.find((a) => a.platform && !platforms.includes(a.platform));
  if (stray)
    throw new InputError(
      input,
      `${stray.level}[${stray.platform}]:${stray.key} names a platform that is not built (${platforms.join(', ')}); accepted: one of those platforms, or no [PLATFORM]`,
    );
}
