import { InputError, shown } from '../errors';
import type { RunContext } from '../context';
import { parseImage } from './image';

const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const MAX_TAG = 128;

export function checkTag(tag: string, input = 'tags'): void {
  if (!TAG_RE.test(tag)) {
    throw new InputError(input, `'${tag}' is not a valid tag: up to 128 of A-Z a-z 0-9 _ . - and not starting with . or -`);
  }
}

/**
 * The `tags` input: bare tags (`v1`, `stable`), and the fully qualified `IMAGE:TAG` lines of
 * docker/metadata-action's `tags` output. A line whose repository is `image` (compared as
 * parseImage normalises names: lowercase, docker.io spellings, library/) gives its TAG. A line
 * naming another repository, or a digest, is refused: this action pushes one image per call, and
 * a tag it cannot push must not pass silently.
 */
export function parseTagsInput(raw: string, image: string, input: string = TAG_INPUTS.extra): string[] {
  const own = parseImage(image);
  const out: string[] = [];
  const usage = `accepted: TAG or ${own.name}:TAG, one per line or comma`;
  for (const item of raw
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (item.includes('@')) {
      throw new InputError(input, `${shown(item)} is a digest reference; tags name what this run pushes, so a digest cannot be one. ${usage}`);
    }
    // A bare tag has neither '/' nor ':'; anything else is IMAGE:TAG.
    if (!/[/:]/.test(item)) {
      out.push(item);
      continue;
    }
    const m = /^(.+):([^:/]+)$/.exec(item);
    if (!m) throw new InputError(input, `${shown(item)} names an image but no tag; ${usage}`);
    let repo;
    try {
      repo = parseImage(m[1]);
    } catch {
      throw new InputError(input, `${shown(item)} is neither a tag nor IMAGE:TAG; ${usage}`);
    }
    if (repo.registry !== own.registry || repo.repository !== own.repository) {
      throw new InputError(
        input,
        `${shown(item)} names the repository ${repo.name}, not this run's image ${own.name}: this action pushes to one image. Call it once per registry or image, or give docker/metadata-action only this image (images: ${own.name}); ${usage}`,
      );
    }
    checkTag(m[2], input);
    out.push(m[2]);
  }
  return out;
}

export function shortSha(sha: string, length = 7): string {
  return sha.slice(0, length);
}

/** The default tag rules, each on unless the 'tag-rules' input turns it off. */
export type TagRule = 'latest' | 'sha' | 'semver' | 'nightly' | 'pr' | 'branch';
export const TAG_RULES: TagRule[] = ['latest', 'sha', 'semver', 'nightly', 'pr', 'branch'];

/** The inputs the tag options come from, named in the errors planTags raises. */
export const TAG_INPUTS = { extra: 'tags', rules: 'tag-rules', suffix: 'suffix', shaLength: 'sha-length' } as const;

/**
 * Parses the 'tag-rules' input: a comma- or newline-separated list of `RULE=false` (turn RULE off)
 * or `RULE=true` items, or `none` to turn every rule off. '' turns every rule on. `none` may be
 * combined with `RULE=true` to keep only some rules ("none, sha=true"). A rule given twice with
 * different values, an unknown rule, a bare rule name or a value other than true/false is refused.
 */
export function parseTagRules(raw: string, input: string = TAG_INPUTS.rules): Record<TagRule, boolean> {
  const items = raw
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const usage = `rules are ${TAG_RULES.join(', ')}; write RULE=false to turn one off (e.g. latest=false, branch=false) or none to turn all off`;
  const none = items.some((s) => s.toLowerCase() === 'none');
  const rules = Object.fromEntries(TAG_RULES.map((r) => [r, !none])) as Record<TagRule, boolean>;
  const given = new Map<TagRule, boolean>();
  for (const item of items) {
    if (item.toLowerCase() === 'none') continue;
    const m = /^([^=\s]+)\s*(?:=\s*(.*))?$/.exec(item);
    const name = (m?.[1] ?? item).toLowerCase();
    if (!m || !(TAG_RULES as string[]).includes(name)) {
      throw new InputError(input, `'${item}' is not a tag rule; ${usage}`);
    }
    const rule = name as TagRule;
    const value = m[2]?.trim().toLowerCase();
    if (value !== 'true' && value !== 'false') {
      throw new InputError(input, `'${item}' needs a value of true or false, e.g. ${rule}=false; ${usage}`);
    }
    const on = value === 'true';
    if (given.has(rule) && given.get(rule) !== on) {
      throw new InputError(input, `${rule} is given both true and false; ${usage}`);
    }
    given.set(rule, on);
    rules[rule] = on;
  }
  return rules;
}

export interface TagOptions {
  /** Which default rules are on (parseTagRules). */
  rules: Record<TagRule, boolean>;
  /** Raw tags added to whatever the rules produce (the 'tags' input). */
  extra: string[];
  /** Length of the short-sha tag, 4..40 (7 by default). */
  shaLength: number;
  /** Appended to every rule-derived and extra tag, `latest` included (e.g. '-cu121'); '' for none. */
  suffix: string;
  /** 'auto': push unless the run is for a pull request. A boolean wins over the event. */
  push: 'auto' | boolean;
}

export interface TagPlan {
  /** Tags to publish, checked, without duplicates; the most specific first and `latest` last (see planTags). */
  tags: string[];
  push: boolean;
  /** org.opencontainers.image.version: what this build is, without the suffix. '' when nothing names it. */
  version: string;
  /** Why these tags, for the log and the report, e.g. "push to default branch main", "tag v1.2.3". */
  reason: string;
}

/** Semantic Versioning 2.0.0, with an optional leading v as git tags usually have. */
const SEMVER_RE =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

export interface Semver {
  major: string;
  minor: string;
  patch: string;
  prerelease: string | undefined;
  /** MAJOR.MINOR.PATCH[-PRERELEASE]: no leading v, no build metadata (a + is not allowed in a tag). */
  version: string;
}

export function parseSemver(name: string): Semver | undefined {
  const m = SEMVER_RE.exec(name);
  if (!m) return undefined;
  const [, major, minor, patch, prerelease] = m;
  return { major, minor, patch, prerelease, version: `${major}.${minor}.${patch}${prerelease ? `-${prerelease}` : ''}` };
}

/**
 * A name made usable as a tag, as docker/metadata-action does it: each run of characters outside
 * [A-Za-z0-9_.-] becomes one '-'; then leading '.' and '-' are dropped and the result is cut to
 * `max` characters. Case is kept. May return '' (a name with nothing usable in it).
 */
export function tagSafe(name: string, max = MAX_TAG): string {
  return name
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, Math.max(0, max));
}

function yyyymmdd(now: Date): string {
  return now.toISOString().slice(0, 10).replace(/-/g, '');
}

/** pull_request, pull_request_target and the review events; or any run on a refs/pull/ ref. */
function isPullRequest(ctx: RunContext): boolean {
  return ctx.eventName.startsWith('pull_request') || ctx.ref.startsWith('refs/pull/');
}

/** One rule's output for this run: the rule applies here; `tags` may still be empty (see `missing`). */
interface RuleOutput {
  rule: TagRule;
  tags: string[];
  /** Why an applicable, enabled rule produced nothing. */
  missing?: string;
}

interface RunKind {
  reason: string;
  version: string;
  isPr: boolean;
  outputs: RuleOutput[];
}

/** What kind of run this is, which rules apply to it and what each would give (before the suffix). */
function classify(ctx: RunContext, shaLength: number, maxName: number, now: Date): RunKind {
  const sha = ctx.sha ? shortSha(ctx.sha, shaLength) : '';
  const shaOut: RuleOutput = { rule: 'sha', tags: sha ? [sha] : [], missing: sha ? undefined : 'GITHUB_SHA is not set, so no commit tag can be made' };
  const via = ctx.eventName && ctx.eventName !== 'push' ? ` (${ctx.eventName})` : '';

  if (isPullRequest(ctx)) {
    // Decided by the event first: pull_request_target runs on the base branch's ref.
    const n = ctx.event.prNumber ?? Number(/^refs\/pull\/(\d+)\//.exec(ctx.ref)?.[1] ?? NaN);
    const pr = Number.isInteger(n) && n > 0 ? `pr-${n}` : '';
    return {
      reason: pr ? `pull request #${n}${via}` : `pull request${via}`,
      version: pr,
      isPr: true,
      outputs: [{ rule: 'pr', tags: pr ? [pr] : [], missing: pr ? undefined : 'the event payload has no pull request number' }],
    };
  }

  if (ctx.eventName === 'schedule') {
    const dated = `nightly-${yyyymmdd(now)}`;
    return {
      reason: `scheduled run of ${now.toISOString().slice(0, 10)} (UTC)`,
      version: dated,
      isPr: false,
      outputs: [{ rule: 'nightly', tags: [dated, 'nightly'] }],
    };
  }

  if (ctx.ref.startsWith('refs/tags/')) {
    const name = ctx.ref.slice('refs/tags/'.length);
    const sv = parseSemver(name);
    if (sv && sv.prerelease) {
      return { reason: `pre-release tag ${name}${via}`, version: sv.version, isPr: false, outputs: [{ rule: 'semver', tags: [sv.version] }] };
    }
    if (sv) {
      return {
        reason: `tag ${name}${via}`,
        version: sv.version,
        isPr: false,
        outputs: [
          { rule: 'semver', tags: [sv.version, `${sv.major}.${sv.minor}`, sv.major] },
          { rule: 'latest', tags: ['latest'] },
        ],
      };
    }
    const safe = tagSafe(name, maxName);
    return {
      reason: `tag ${name} (not a semantic version)${via}`,
      version: tagSafe(name),
      isPr: false,
      outputs: [{ rule: 'semver', tags: safe ? [safe] : [], missing: safe ? undefined : `the tag name '${name}' has no character a tag may use` }],
    };
  }

  if (ctx.ref.startsWith('refs/heads/')) {
    const branch = ctx.ref.slice('refs/heads/'.length);
    if (ctx.eventName === 'push' && ctx.defaultBranch && branch === ctx.defaultBranch) {
      return { reason: `push to default branch ${branch}`, version: sha, isPr: false, outputs: [shaOut, { rule: 'latest', tags: ['latest'] }] };
    }
    const safe = tagSafe(branch, maxName);
    const what = ctx.eventName === 'push' ? `push to branch ${branch}` : `${ctx.eventName || 'run'} on branch ${branch}`;
    return {
      reason: what,
      version: tagSafe(branch),
      isPr: false,
      outputs: [shaOut, { rule: 'branch', tags: safe ? [safe] : [], missing: safe ? undefined : `the branch name '${branch}' has no character a tag may use` }],
    };
  }

  return { reason: `${ctx.eventName || 'run'}${ctx.ref ? ` on ${ctx.ref}` : ''}`, version: sha, isPr: false, outputs: [shaOut] };
}

/**
 * The tags for this run, from the event (docker/metadata-action's behaviour where it overlaps):
 *
 * | run                                          | rules: tags                                  | version          |
 * |----------------------------------------------|----------------------------------------------|------------------|
 * | push to the default branch                   | sha: SHORT_SHA; latest: latest               | SHORT_SHA        |
 * | tag v1.2.3 or 1.2.3 (any event on a tag ref) | semver: 1.2.3, 1.2, 1; latest: latest        | 1.2.3            |
 * | pre-release tag v1.2.3-rc.1                  | semver: 1.2.3-rc.1                           | 1.2.3-rc.1       |
 * | other tag (not semver)                       | semver: the tag name made tag-safe           | that name        |
 * | schedule                                     | nightly: nightly-YYYYMMDD (UTC), nightly     | nightly-YYYYMMDD |
 * | pull_request, pull_request_target, review ev. | pr: pr-N (not pushed with push auto)        | pr-N             |
 * | other branch push, workflow_dispatch, ...    | sha: SHORT_SHA; branch: the branch tag-safe  | the branch       |
 * | anything else                                | sha: SHORT_SHA                               | SHORT_SHA        |
 *
 * Order: the rule tags most specific first (semver, nightly, pr, sha, branch), then `extra`, then
 * `latest` last, as metadata-action lists `latest` last. So the first tag names this build
 * specifically, and platformTag (first non-latest tag) gives per-platform refs such as
 * `<sha>-amd64` or `1.2.3-amd64` even when a suffix turns `latest` into `latest-cu121`.
 * `suffix` is appended to every tag; branch and git-tag names are cut so the suffix still fits.
 * Duplicates are dropped, keeping the first. A manual (workflow_dispatch) run on the default
 * branch is a branch run: only a push moves `latest`.
 */
export function planTags(ctx: RunContext, opts: TagOptions, now: Date): TagPlan {
  const { suffix, shaLength } = opts;
  if (!Number.isInteger(shaLength) || shaLength < 4 || shaLength > 40) {
    throw new InputError(TAG_INPUTS.shaLength, `'${shaLength}' is not a whole number from 4 to 40`);
  }
  if (!/^[A-Za-z0-9_.-]{0,64}$/.test(suffix)) {
    throw new InputError(TAG_INPUTS.suffix, `'${suffix}' is not a tag suffix: up to 64 of A-Z a-z 0-9 _ . - (e.g. -cu121, -cpu, -slim)`);
  }
  for (const t of opts.extra) checkTag(t, TAG_INPUTS.extra);

  const kind = classify(ctx, shaLength, MAX_TAG - suffix.length, now);
  const push = opts.push === 'auto' ? !kind.isPr : opts.push;

  const order: TagRule[] = ['semver', 'nightly', 'pr', 'sha', 'branch'];
  const on = kind.outputs.filter((o) => opts.rules[o.rule]);
  const fromRules = order.flatMap((r) => on.filter((o) => o.rule === r).flatMap((o) => o.tags));
  const latest = on.some((o) => o.rule === 'latest') ? ['latest'] : [];

  const tags: string[] = [];
  for (const t of [...fromRules, ...opts.extra, ...latest]) {
    const tag = `${t}${suffix}`;
    if (tag.length > MAX_TAG) {
      throw new InputError(TAG_INPUTS.extra, `'${t}' with the suffix '${suffix}' is ${tag.length} characters; a tag is at most ${MAX_TAG}`);
    }
    checkTag(tag, TAG_INPUTS.extra);
    if (!tags.includes(tag)) tags.push(tag);
  }

  if (tags.length === 0 && push) {
    const off = kind.outputs.map((o) => o.rule).filter((r) => !opts.rules[r]);
    const why = [
      ...(off.length > 0 ? [`${TAG_INPUTS.rules} turns off ${off.join(' and ')}, the rule${off.length > 1 ? 's' : ''} for this run`] : []),
      ...on.filter((o) => o.tags.length === 0).map((o) => `${o.rule}: ${o.missing ?? 'gives no tag'}`),
    ];
    throw new InputError(
      TAG_INPUTS.extra,
      `no tag to push for ${kind.reason}: ${why.join('; ')}. Give tags, turn a rule back on in ${TAG_INPUTS.rules}, or set push to false`,
    );
  }

  return { tags, push, version: kind.version, reason: kind.reason + (kind.isPr && !push ? ', not pushed' : '') };
}

/**
 * The local tag of each platform's image in the engine (it is never pushed: platform images are
 * pushed by digest). `runSuffix` keeps runs sharing one engine apart; the base is cut so the
 * whole stays within the tag length.
 */
export function platformTag(tags: string[], arch: string, runSuffix = ''): string {
  const base = tags.find((t) => t !== 'latest') ?? tags[0];
  const end = `-${arch}${runSuffix ? `-${runSuffix}` : ''}`;
  const tag = `${base.slice(0, MAX_TAG - end.length)}${end}`;
  checkTag(tag);
  return tag;
}
