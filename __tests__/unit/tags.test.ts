import { readContext } from '../../src/context';
import { InputError } from '../../src/errors';
import {
  checkTag,
  parseSemver,
  parseTagRules,
  parseTagsInput,
  planTags,
  platformTag,
  shortSha,
  TAG_RULES,
  tagSafe,
  type TagOptions,
  type TagRule,
} from '../../src/plan/tags';
import { runEnv, type RunName } from '../fixtures/events/runs';
import { FROZEN_NOW, runContext, SHA7 } from './fixtures';

/** Short shas of the recorded runs (see __tests__/fixtures/events/runs.ts). */
const MAIN7 = '9f86d08';
const DISPATCH7 = '4e07408';

const ALL_ON = parseTagRules('');
const off = (...rules: TagRule[]): Record<TagRule, boolean> => ({ ...ALL_ON, ...Object.fromEntries(rules.map((r) => [r, false])) });
const NONE = off(...TAG_RULES);
const opts = (over: Partial<TagOptions> = {}): TagOptions => ({ rules: ALL_ON, extra: [], shaLength: 7, suffix: '', push: 'auto', ...over });
const ctxOf = (run: RunName, env: Record<string, string | undefined> = {}) => readContext(runEnv(run, env));

describe('planTags from recorded events', () => {
  test.each([
    {
      name: 'push to the default branch: the short sha, then latest',
      run: 'pushMain',
      want: { tags: [MAIN7, 'latest'], push: true, version: MAIN7, reason: 'push to default branch main' },
    },
    {
      name: 'tag v1.2.3: version, minor, major, then latest',
      run: 'tag',
      want: { tags: ['1.2.3', '1.2', '1', 'latest'], push: true, version: '1.2.3', reason: 'tag v1.2.3' },
    },
    {
      name: 'pre-release tag v1.2.3-rc.1: only the full version, no latest',
      run: 'preRelease',
      want: { tags: ['1.2.3-rc.1'], push: true, version: '1.2.3-rc.1', reason: 'pre-release tag v1.2.3-rc.1' },
    },
    {
      name: 'schedule: nightly-YYYYMMDD from the frozen clock, then nightly',
      run: 'schedule',
      want: { tags: ['nightly-20260102', 'nightly'], push: true, version: 'nightly-20260102', reason: 'scheduled run of 2026-01-02 (UTC)' },
    },
    {
      name: 'pull request 42, push auto: pr-42 for the report, not pushed',
      run: 'pullRequest',
      want: { tags: ['pr-42'], push: false, version: 'pr-42', reason: 'pull request #42 (pull_request), not pushed' },
    },
    {
      name: 'workflow_dispatch on feature/New_thing: the short sha and the branch made tag-safe',
      run: 'dispatch',
      want: { tags: [DISPATCH7, 'feature-New_thing'], push: true, version: 'feature-New_thing', reason: 'workflow_dispatch on branch feature/New_thing' },
    },
  ] as { name: string; run: RunName; want: object }[])('$name', ({ run, want }) => {
    expect(planTags(ctxOf(run), opts(), FROZEN_NOW)).toEqual(want);
  });
});

describe('planTags per kind of run', () => {
  test.each([
    { name: 'a tag without v is semver too', run: 'tag', env: { GITHUB_REF: 'refs/tags/1.2.3' }, want: ['1.2.3', '1.2', '1', 'latest'], version: '1.2.3' },
    { name: 'a 0.x tag gives major 0 too', run: 'tag', env: { GITHUB_REF: 'refs/tags/v0.4.0' }, want: ['0.4.0', '0.4', '0', 'latest'], version: '0.4.0' },
    {
      name: 'build metadata is dropped (+ is not allowed in a tag)',
      run: 'tag',
      env: { GITHUB_REF: 'refs/tags/v1.2.3+build.7' },
      want: ['1.2.3', '1.2', '1', 'latest'],
      version: '1.2.3',
    },
    {
      name: 'a pre-release with build metadata keeps only the pre-release',
      run: 'tag',
      env: { GITHUB_REF: 'refs/tags/v2.0.0-beta.2+exp.sha.5114f85' },
      want: ['2.0.0-beta.2'],
      version: '2.0.0-beta.2',
    },
    { name: 'v1.2 is not semver: the tag name as is, no latest', run: 'tag', env: { GITHUB_REF: 'refs/tags/v1.2' }, want: ['v1.2'], version: 'v1.2' },
    { name: 'a leading zero is not semver', run: 'tag', env: { GITHUB_REF: 'refs/tags/v1.02.3' }, want: ['v1.02.3'], version: 'v1.02.3' },
    {
      name: 'a non-semver tag is made tag-safe',
      run: 'tag',
      env: { GITHUB_REF: 'refs/tags/release/2026 Q1' },
      want: ['release-2026-Q1'],
      version: 'release-2026-Q1',
    },
    {
      name: 'a release event on a tag ref gets the tag rules',
      run: 'tag',
      env: { GITHUB_EVENT_NAME: 'release' },
      want: ['1.2.3', '1.2', '1', 'latest'],
      version: '1.2.3',
    },
    {
      name: 'a push to another branch: the short sha and the branch',
      run: 'pushMain',
      env: { GITHUB_REF: 'refs/heads/dependabot/pip/torch-2.3' },
      want: [MAIN7, 'dependabot-pip-torch-2.3'],
      version: 'dependabot-pip-torch-2.3',
    },
    {
      name: 'a branch named like the default branch is not it',
      run: 'pushMain',
      env: { GITHUB_REF: 'refs/heads/not-main' },
      want: [MAIN7, 'not-main'],
      version: 'not-main',
    },
    {
      name: 'workflow_dispatch on the default branch does not move latest',
      run: 'dispatch',
      env: { GITHUB_REF: 'refs/heads/main' },
      want: [DISPATCH7, 'main'],
      version: 'main',
    },
    {
      name: 'pull_request_target runs on the base ref but is still a pull request',
      run: 'pullRequest',
      env: { GITHUB_EVENT_NAME: 'pull_request_target', GITHUB_REF: 'refs/heads/main' },
      want: ['pr-42'],
      version: 'pr-42',
    },
    {
      name: 'the schedule date is the UTC date',
      run: 'schedule',
      env: {},
      now: new Date('2026-01-02T23:30:00-05:00'),
      want: ['nightly-20260103', 'nightly'],
      version: 'nightly-20260103',
    },
    {
      name: 'an event on no branch or tag gets the short sha',
      run: 'pushMain',
      env: { GITHUB_EVENT_NAME: 'repository_dispatch', GITHUB_REF: '' },
      want: [MAIN7],
      version: MAIN7,
    },
  ] as { name: string; run: RunName; env: Record<string, string>; now?: Date; want: string[]; version: string }[])(
    '$name',
    ({ run, env, now, want, version }) => {
      const plan = planTags(ctxOf(run, env), opts(), now ?? FROZEN_NOW);
      expect(plan.tags).toEqual(want);
      expect(plan.version).toBe(version);
    },
  );

  test('a pull request whose payload has no number takes it from refs/pull/N/merge', () => {
    const ctx = runContext({ eventName: 'pull_request', ref: 'refs/pull/7/merge', event: {} });
    expect(planTags(ctx, opts({ push: true }), FROZEN_NOW).tags).toEqual(['pr-7']);
  });

  test('the default branch is only known from the payload: without it a push to main is a branch push', () => {
    const ctx = runContext({ ref: 'refs/heads/main', defaultBranch: undefined });
    expect(planTags(ctx, opts(), FROZEN_NOW).tags).toEqual([SHA7, 'main']);
  });
});

describe('planTags push', () => {
  test.each([
    { name: 'pull request, auto: not pushed', run: 'pullRequest', push: 'auto', want: false },
    { name: 'pull request, true: pushed as pr-42', run: 'pullRequest', push: true, want: true },
    { name: 'pull request, false: not pushed', run: 'pullRequest', push: false, want: false },
    { name: 'pull_request_review, auto: not pushed', run: 'pullRequest', push: 'auto', env: { GITHUB_EVENT_NAME: 'pull_request_review' }, want: false },
    { name: 'default branch, auto: pushed', run: 'pushMain', push: 'auto', want: true },
    { name: 'default branch, false: not pushed', run: 'pushMain', push: false, want: false },
    { name: 'tag, auto: pushed', run: 'tag', push: 'auto', want: true },
    { name: 'schedule, auto: pushed', run: 'schedule', push: 'auto', want: true },
    { name: 'workflow_dispatch, auto: pushed', run: 'dispatch', push: 'auto', want: true },
  ] as { name: string; run: RunName; push: TagOptions['push']; env?: Record<string, string>; want: boolean }[])('$name', ({ run, push, env, want }) => {
    const plan = planTags(ctxOf(run, env), opts({ push }), FROZEN_NOW);
    expect(plan.push).toBe(want);
    expect(plan.tags).not.toHaveLength(0);
  });

  test('a pull request pushed on request says so without "not pushed"', () => {
    expect(planTags(ctxOf('pullRequest'), opts({ push: true }), FROZEN_NOW).reason).toBe('pull request #42 (pull_request)');
  });
});

describe('planTags rules, extras, suffix and sha length', () => {
  test.each([
    { name: 'default branch, latest off', run: 'pushMain', o: { rules: off('latest') }, want: [MAIN7] },
    { name: 'default branch, sha off', run: 'pushMain', o: { rules: off('sha') }, want: ['latest'] },
    { name: 'tag, latest off', run: 'tag', o: { rules: off('latest') }, want: ['1.2.3', '1.2', '1'] },
    { name: 'tag, semver off', run: 'tag', o: { rules: off('semver') }, want: ['latest'] },
    { name: 'branch, branch off', run: 'dispatch', o: { rules: off('branch') }, want: [DISPATCH7] },
    { name: 'branch, sha off', run: 'dispatch', o: { rules: off('sha') }, want: ['feature-New_thing'] },
    { name: 'rules that do not apply change nothing', run: 'pushMain', o: { rules: off('semver', 'nightly', 'pr', 'branch') }, want: [MAIN7, 'latest'] },
    { name: 'schedule, nightly off, with an extra', run: 'schedule', o: { rules: off('nightly'), extra: ['nightly-custom'] }, want: ['nightly-custom'] },
    { name: 'all rules off: only the extras', run: 'pushMain', o: { rules: NONE, extra: ['stable'] }, want: ['stable'] },
    { name: 'extras come after the rule tags and before latest', run: 'pushMain', o: { extra: ['stable', 'v1'] }, want: [MAIN7, 'stable', 'v1', 'latest'] },
    {
      name: 'an extra equal to a rule tag is given once, where the rule put it',
      run: 'tag',
      o: { extra: ['1.2', 'lts'] },
      want: ['1.2.3', '1.2', '1', 'lts', 'latest'],
    },
    { name: 'an extra latest is given once', run: 'pushMain', o: { extra: ['latest'] }, want: [MAIN7, 'latest'] },
    { name: 'duplicate extras are given once, in order', run: 'dispatch', o: { rules: NONE, extra: ['b', 'a', 'b'] }, want: ['b', 'a'] },
    { name: 'an extra of 128 characters is accepted', run: 'dispatch', o: { rules: NONE, extra: ['t'.repeat(128)] }, want: ['t'.repeat(128)] },
    { name: 'suffix on the default branch, latest included', run: 'pushMain', o: { suffix: '-cu121' }, want: [`${MAIN7}-cu121`, 'latest-cu121'] },
    { name: 'suffix on a tag', run: 'tag', o: { suffix: '-cpu' }, want: ['1.2.3-cpu', '1.2-cpu', '1-cpu', 'latest-cpu'] },
    { name: 'suffix on a pre-release', run: 'preRelease', o: { suffix: '-slim' }, want: ['1.2.3-rc.1-slim'] },
    { name: 'suffix on a schedule', run: 'schedule', o: { suffix: '-cpu' }, want: ['nightly-20260102-cpu', 'nightly-cpu'] },
    { name: 'suffix on a pull request', run: 'pullRequest', o: { suffix: '-cu121' }, want: ['pr-42-cu121'] },
    {
      name: 'suffix on extras too',
      run: 'dispatch',
      o: { suffix: '-cpu', extra: ['stable'] },
      want: [`${DISPATCH7}-cpu`, 'feature-New_thing-cpu', 'stable-cpu'],
    },
    {
      name: 'a long branch is cut so that the suffix still fits',
      run: 'dispatch',
      env: { GITHUB_REF: `refs/heads/${'b'.repeat(200)}` },
      o: { suffix: '-cu121' },
      want: [`${DISPATCH7}-cu121`, `${'b'.repeat(122)}-cu121`],
    },
    { name: 'sha length 12', run: 'pushMain', o: { shaLength: 12 }, want: ['9f86d081884c', 'latest'] },
    { name: 'sha length 4', run: 'pushMain', o: { shaLength: 4 }, want: ['9f86', 'latest'] },
    { name: 'sha length 40: the whole sha', run: 'dispatch', o: { shaLength: 40 }, want: ['4e07408562bedb8b60ce05c1decfe3ad16b72230', 'feature-New_thing'] },
  ] as { name: string; run: RunName; env?: Record<string, string>; o: Partial<TagOptions>; want: string[] }[])('$name', ({ run, env, o, want }) => {
    expect(planTags(ctxOf(run, env), opts(o), FROZEN_NOW).tags).toEqual(want);
  });

  test('the version leaves the suffix out', () => {
    expect(planTags(ctxOf('tag'), opts({ suffix: '-cu121' }), FROZEN_NOW).version).toBe('1.2.3');
  });

  test('with a suffix, platformTag still names the build, not latest-SUFFIX', () => {
    const plan = planTags(ctxOf('pushMain'), opts({ suffix: '-cu121' }), FROZEN_NOW);
    expect(platformTag(plan.tags, 'amd64')).toBe(`${MAIN7}-cu121-amd64`);
  });

  test('nothing to push and push false is not an error: no tags', () => {
    expect(planTags(ctxOf('pushMain'), opts({ rules: NONE, push: false }), FROZEN_NOW)).toMatchObject({ tags: [], push: false });
  });

  test('a pull request with pr off and push auto is not an error: nothing pushed', () => {
    expect(planTags(ctxOf('pullRequest'), opts({ rules: off('pr') }), FROZEN_NOW)).toMatchObject({ tags: [], push: false });
  });
});

describe('branch names made tag-safe', () => {
  test.each([
    { name: 'a slash becomes -', branch: 'feature/New_thing', want: 'feature-New_thing' },
    { name: 'case is kept', branch: 'Release-X', want: 'Release-X' },
    { name: 'a run of unusable characters becomes one -', branch: 'a//b  c', want: 'a-b-c' },
    { name: 'non-ASCII is unusable', branch: 'fïx/ünïcode', want: 'f-x-n-code' },
    { name: 'leading dots and dashes are dropped', branch: '.-.hidden/x', want: 'hidden-x' },
    { name: 'a leading slash run is dropped', branch: '/x', want: 'x' },
    { name: 'cut to 128', branch: 'a'.repeat(300), want: 'a'.repeat(128) },
  ])('$name', ({ branch, want }) => {
    expect(tagSafe(branch)).toBe(want);
    expect(planTags(ctxOf('dispatch', { GITHUB_REF: `refs/heads/${branch}` }), opts(), FROZEN_NOW).tags).toEqual([DISPATCH7, want]);
  });

  test('a branch with nothing usable gives no branch tag', () => {
    expect(planTags(ctxOf('dispatch', { GITHUB_REF: 'refs/heads/...' }), opts(), FROZEN_NOW).tags).toEqual([DISPATCH7]);
  });
});

describe('planTags refusals', () => {
  test.each([
    { name: 'an extra starting with -', tag: '-x' },
    { name: 'an extra starting with .', tag: '.x' },
    { name: 'an extra with a space', tag: 'a b' },
    { name: 'an extra with a slash', tag: 'feature/x' },
    { name: 'an extra of 129 characters', tag: 't'.repeat(129) },
  ])('refuses $name naming tags', ({ tag }) => {
    const plan = () => planTags(ctxOf('pushMain'), opts({ extra: ['ok', tag] }), FROZEN_NOW);
    expect(plan).toThrow(InputError);
    expect(plan).toThrow("Input 'tags'");
    expect(plan).toThrow(`'${tag}'`);
  });

  test.each([
    { name: 'an extra that the suffix makes longer than 128', o: { extra: ['t'.repeat(125)], suffix: '-cu121' }, input: 'tags', says: "the suffix '-cu121'" },
    { name: 'a suffix with a slash', o: { suffix: '/cu121' }, input: 'suffix', says: "'/cu121'" },
    { name: 'a suffix of 65 characters', o: { suffix: `-${'s'.repeat(64)}` }, input: 'suffix', says: 'up to 64' },
    { name: 'sha length 3', o: { shaLength: 3 }, input: 'sha-length', says: 'from 4 to 40' },
    { name: 'sha length 41', o: { shaLength: 41 }, input: 'sha-length', says: 'from 4 to 40' },
    { name: 'sha length 7.5', o: { shaLength: 7.5 }, input: 'sha-length', says: "'7.5'" },
  ] as { name: string; o: Partial<TagOptions>; input: string; says: string }[])('refuses $name naming $input', ({ o, input, says }) => {
    const plan = () => planTags(ctxOf('pushMain'), opts(o), FROZEN_NOW);
    expect(plan).toThrow(InputError);
    expect(plan).toThrow(`Input '${input}'`);
    expect(plan).toThrow(says);
  });

  test.each([
    {
      name: 'default branch with every rule off',
      run: 'pushMain',
      o: { rules: NONE },
      says: ['tag-rules turns off sha and latest', 'push to default branch main', 'set push to false'],
    },
    { name: 'a tag with semver and latest off', run: 'tag', o: { rules: off('semver', 'latest') }, says: ['turns off semver and latest', 'tag v1.2.3'] },
    { name: 'schedule with nightly off', run: 'schedule', o: { rules: off('nightly') }, says: ['turns off nightly, the rule for this run'] },
    { name: 'a pull request pushed with pr off', run: 'pullRequest', o: { rules: off('pr'), push: true }, says: ['turns off pr', 'pull request #42'] },
    {
      name: 'a branch run with sha off and a branch with nothing usable',
      run: 'dispatch',
      env: { GITHUB_REF: 'refs/heads/...' },
      o: { rules: off('sha') },
      says: ['turns off sha', "branch: the branch name '...' has no character a tag may use"],
    },
    {
      name: 'latest off and no GITHUB_SHA',
      run: 'pushMain',
      env: { GITHUB_SHA: '' },
      o: { rules: off('latest') },
      says: ['turns off latest', 'GITHUB_SHA is not set'],
    },
  ] as { name: string; run: RunName; env?: Record<string, string>; o: Partial<TagOptions>; says: string[] }[])(
    'nothing to push: $name is refused naming tags and why',
    ({ run, env, o, says }) => {
      const plan = () => planTags(ctxOf(run, env), opts(o), FROZEN_NOW);
      expect(plan).toThrow(InputError);
      expect(plan).toThrow("Input 'tags'");
      for (const s of says) expect(plan).toThrow(s);
    },
  );
});

describe('parseTagRules', () => {
  const onOnly = (...rules: TagRule[]) => Object.fromEntries(TAG_RULES.map((r) => [r, rules.includes(r)]));
  test.each([
    { name: "'' turns every rule on", raw: '', want: onOnly(...TAG_RULES) },
    { name: 'blank lines and spaces turn every rule on', raw: ' \n ', want: onOnly(...TAG_RULES) },
    { name: 'none turns every rule off', raw: 'none', want: onOnly() },
    { name: 'NONE in capitals', raw: ' NONE ', want: onOnly() },
    { name: 'a comma list of rules to turn off', raw: 'latest=false, branch=false', want: onOnly('sha', 'semver', 'nightly', 'pr') },
    { name: 'a newline list', raw: 'latest=false\nsha=false\n', want: onOnly('semver', 'nightly', 'pr', 'branch') },
    { name: 'case and spaces around = do not matter', raw: 'Latest = FALSE', want: onOnly('sha', 'semver', 'nightly', 'pr', 'branch') },
    { name: 'RULE=true keeps it on', raw: 'sha=true', want: onOnly(...TAG_RULES) },
    { name: 'none with RULE=true keeps only those', raw: 'none, sha=true, branch=true', want: onOnly('sha', 'branch') },
    { name: 'a rule turned off twice', raw: 'pr=false,pr=false', want: onOnly('latest', 'sha', 'semver', 'nightly', 'branch') },
  ])('$name', ({ raw, want }) => {
    expect(parseTagRules(raw)).toEqual(want);
  });

  test.each([
    { name: 'an unknown rule', raw: 'edge=false', says: "'edge=false' is not a tag rule" },
    { name: 'a bare rule name', raw: 'latest', says: "'latest' needs a value of true or false" },
    { name: 'a value other than true or false', raw: 'latest=no', says: "'latest=no' needs a value of true or false" },
    { name: 'an empty value', raw: 'sha=', says: "'sha=' needs a value of true or false" },
    { name: 'a rule both true and false', raw: 'latest=false, latest=true', says: 'latest is given both true and false' },
    { name: 'a space-separated list', raw: 'latest=false branch=false', says: 'needs a value of true or false' },
  ])('refuses $name naming tag-rules and listing the rules', ({ raw, says }) => {
    const parse = () => parseTagRules(raw);
    expect(parse).toThrow(InputError);
    expect(parse).toThrow("Input 'tag-rules'");
    expect(parse).toThrow(says);
    expect(parse).toThrow('rules are latest, sha, semver, nightly, pr, branch');
  });

  test('names the input it is given', () => {
    expect(() => parseTagRules('x=false', 'images[1].tag-rules')).toThrow("Input 'images[1].tag-rules'");
  });
});

describe('parseSemver', () => {
  test.each([
    { name: 'v1.2.3', raw: 'v1.2.3', want: '1.2.3', pre: undefined },
    { name: '1.2.3', raw: '1.2.3', want: '1.2.3', pre: undefined },
    { name: 'a pre-release', raw: 'v1.2.3-rc.1', want: '1.2.3-rc.1', pre: 'rc.1' },
    { name: 'build metadata dropped', raw: '1.2.3+20260102', want: '1.2.3', pre: undefined },
    { name: 'V in capitals is not semver', raw: 'V1.2.3', want: undefined, pre: undefined },
    { name: 'two parts is not semver', raw: '1.2', want: undefined, pre: undefined },
    { name: 'an empty pre-release is not semver', raw: '1.2.3-', want: undefined, pre: undefined },
    { name: 'a leading zero in the pre-release number is not semver', raw: '1.2.3-rc.01', want: undefined, pre: undefined },
  ])('$name', ({ raw, want, pre }) => {
    const sv = parseSemver(raw);
    expect(sv?.version).toBe(want);
    expect(sv?.prerelease).toBe(pre);
  });
});

describe('platformTag', () => {
  test.each([
    { name: 'picks the non-latest tag when latest comes first', tags: ['latest', SHA7], arch: 'amd64', want: `${SHA7}-amd64` },
    { name: 'picks the first non-latest tag', tags: ['latest', 'v1', 'stable'], arch: 'arm64', want: 'v1-arm64' },
    { name: 'falls back to latest when it is the only tag', tags: ['latest'], arch: 'arm64', want: 'latest-arm64' },
  ])('$name', ({ tags, arch, want }) => {
    expect(platformTag(tags, arch)).toBe(want);
  });

  test.each([
    { name: 'the run suffix follows the architecture', tags: [SHA7], suffix: 'run42-1-977', want: `${SHA7}-amd64-run42-1-977` },
    { name: 'no suffix, no dash', tags: [SHA7], suffix: '', want: `${SHA7}-amd64` },
    {
      name: 'a long base is cut so the tag stays within 128',
      tags: ['t'.repeat(126)],
      suffix: 'run42-1-977',
      want: `${'t'.repeat(128 - '-amd64-run42-1-977'.length)}-amd64-run42-1-977`,
    },
  ])('$name', ({ tags, suffix, want }) => {
    expect(platformTag(tags, 'amd64', suffix)).toBe(want);
  });

  test('two runs of one commit on one engine get different local tags', () => {
    expect(platformTag([SHA7], 'amd64', 'run42-1-100')).not.toBe(platformTag([SHA7], 'amd64', 'run43-1-100'));
  });
});

describe('shortSha and checkTag', () => {
  test.each([
    { name: 'seven characters by default', sha: '0123456789abcdef', length: undefined, want: '0123456' },
    { name: 'a given length', sha: '0123456789abcdef', length: 12, want: '0123456789ab' },
  ])('shortSha: $name', ({ sha, length, want }) => {
    expect(shortSha(sha, length)).toBe(want);
  });

  test('checkTag names the input it is given', () => {
    expect(() => checkTag('a b', 'platform-tag')).toThrow("Input 'platform-tag'");
  });
});

describe('parseTagsInput: bare tags and metadata-action IMAGE:TAG lines', () => {
  test.each([
    { name: 'bare tags, comma or newline', raw: 'v1, stable\nnightly', image: 'ghcr.io/acme/worker', want: ['v1', 'stable', 'nightly'] },
    {
      name: 'IMAGE:TAG of this image gives its tag',
      raw: 'ghcr.io/acme/worker:1.2.3\nghcr.io/acme/worker:latest',
      image: 'ghcr.io/acme/worker',
      want: ['1.2.3', 'latest'],
    },
    { name: 'the owner in another case is the same image', raw: 'ghcr.io/Acme/Worker:pr-7', image: 'ghcr.io/acme/worker', want: ['pr-7'] },
    { name: 'the image in another case is the same image', raw: 'ghcr.io/acme/worker:main', image: 'ghcr.io/ACME/worker', want: ['main'] },
    {
      name: 'Docker Hub spellings are one repository',
      raw: 'docker.io/library/worker:1\nworker:2\nindex.docker.io/library/worker:3',
      image: 'worker',
      want: ['1', '2', '3'],
    },
    { name: 'a registry with a port', raw: 'localhost:5000/w:sha-abc1234', image: 'localhost:5000/w', want: ['sha-abc1234'] },
    { name: 'bare and qualified mixed, case of the tag kept', raw: 'Stable\nghcr.io/acme/worker:V1', image: 'ghcr.io/acme/worker', want: ['Stable', 'V1'] },
    { name: 'empty lines dropped', raw: '\n  \nghcr.io/acme/worker:1\n', image: 'ghcr.io/acme/worker', want: ['1'] },
  ])('$name', ({ raw, image, want }) => {
    expect(parseTagsInput(raw, image)).toEqual(want);
  });

  test.each([
    {
      name: 'another repository of the same registry',
      raw: 'ghcr.io/acme/other:1',
      image: 'ghcr.io/acme/worker',
      says: [
        "Input 'tags'",
        "'ghcr.io/acme/other:1'",
        'names the repository ghcr.io/acme/other',
        'this action pushes to one image',
        'once per registry',
        'images: ghcr.io/acme/worker',
      ],
    },
    {
      name: 'the same path on another registry',
      raw: 'ghcr.io/acme/worker:1\ndocker.io/acme/worker:1',
      image: 'ghcr.io/acme/worker',
      says: ["'docker.io/acme/worker:1'", "not this run's image ghcr.io/acme/worker"],
    },
    {
      name: 'a digest reference',
      raw: 'ghcr.io/acme/worker@sha256:' + 'a'.repeat(64),
      image: 'ghcr.io/acme/worker',
      says: ['is a digest reference', 'accepted: TAG or ghcr.io/acme/worker:TAG'],
    },
    { name: 'a tag and digest', raw: 'ghcr.io/acme/worker:1@sha256:' + 'a'.repeat(64), image: 'ghcr.io/acme/worker', says: ['is a digest reference'] },
    { name: 'an image without a tag', raw: 'ghcr.io/acme/worker', image: 'ghcr.io/acme/worker', says: ["'ghcr.io/acme/worker' names an image but no tag"] },
    { name: 'a tag that docker refuses', raw: 'ghcr.io/acme/worker:-bad', image: 'ghcr.io/acme/worker', says: ["'-bad' is not a valid tag"] },
    { name: 'an image part that is no image name', raw: 'ghcr.io/ac me/worker:1', image: 'ghcr.io/acme/worker', says: ['is neither a tag nor IMAGE:TAG'] },
  ])('refused: $name', ({ raw, image, says }) => {
    const parse = () => parseTagsInput(raw, image);
    expect(parse).toThrow(InputError);
    for (const s of says) expect(parse).toThrow(s);
  });
});
