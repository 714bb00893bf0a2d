import { InputError } from '../errors';
import type { RunContext } from '../context';

const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function checkTag(tag: string, input = 'tags'): void {
  if (!TAG_RE.test(tag)) {
    throw new InputError(input, `'${tag}' is not a valid tag: up to 128 of A-Z a-z 0-9 _ . - and not starting with . or -`);
  }
}

export function shortSha(sha: string, length = 7): string {
  return sha.slice(0, length);
}

/**
 * The seed procedure's tags: the short commit sha always, and `latest` when the run is on the
 * repository's default branch. Explicit `tags` replace both.
 */
export function planTags(explicit: string[], ctx: RunContext): string[] {
  const tags: string[] = [];
  if (explicit.length > 0) {
    tags.push(...explicit);
  } else {
    if (ctx.defaultBranch && ctx.ref === `refs/heads/${ctx.defaultBranch}`) tags.push('latest');
    if (!ctx.sha) throw new InputError('tags', 'no tags given and GITHUB_SHA is not set, so no commit tag can be made');
    tags.push(shortSha(ctx.sha));
  }
  for (const t of tags) checkTag(t);
  return [...new Set(tags)];
}

/**
 * The tag each platform's image is pushed under before the multi-arch list is made. It is only
 * pushed after every platform verified, so it never names an unverified image.
 */
export function platformTag(tags: string[], arch: string): string {
  const base = tags.find((t) => t !== 'latest') ?? tags[0];
  const tag = `${base}-${arch}`;
  checkTag(tag);
  return tag;
}
