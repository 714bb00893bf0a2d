import { InputError } from '../../src/errors';
import { checkTag, planTags, platformTag, shortSha } from '../../src/plan/tags';
import { runContext, SHA7 } from './fixtures';

describe('planTags', () => {
  test.each([
    { name: 'push to the default branch gets latest and the short sha', explicit: [], ctx: runContext({ ref: 'refs/heads/main' }), want: ['latest', SHA7] },
    { name: 'push to another branch gets only the short sha', explicit: [], ctx: runContext({ ref: 'refs/heads/feature' }), want: [SHA7] },
    { name: 'a branch whose name ends like the default branch is not it', explicit: [], ctx: runContext({ ref: 'refs/heads/not-main' }), want: [SHA7] },
    { name: 'tag push gets only the short sha', explicit: [], ctx: runContext({ ref: 'refs/tags/main', eventName: 'push' }), want: [SHA7] },
    { name: 'pull request gets only the short sha', explicit: [], ctx: runContext({ ref: 'refs/pull/7/merge', eventName: 'pull_request' }), want: [SHA7] },
    { name: 'unknown default branch never gets latest', explicit: [], ctx: runContext({ ref: 'refs/heads/main', defaultBranch: undefined }), want: [SHA7] },
    { name: 'explicit tags replace latest and the sha', explicit: ['v1.2.3', 'stable'], ctx: runContext({ ref: 'refs/heads/main' }), want: ['v1.2.3', 'stable'] },
    { name: 'explicit tags work without a sha', explicit: ['v1'], ctx: runContext({ sha: '' }), want: ['v1'] },
    { name: 'duplicate explicit tags are given once, in order', explicit: ['b', 'a', 'b'], ctx: runContext(), want: ['b', 'a'] },
    { name: 'a tag of 128 characters is accepted', explicit: ['t'.repeat(128)], ctx: runContext(), want: ['t'.repeat(128)] },
  ])('$name', ({ explicit, ctx, want }) => {
    expect(planTags(explicit, ctx)).toEqual(want);
  });

  test.each([
    { name: 'a tag starting with -', tag: '-x' },
    { name: 'a tag starting with .', tag: '.x' },
    { name: 'a tag with a space', tag: 'a b' },
    { name: 'a tag with a slash', tag: 'feature/x' },
    { name: 'a tag of 129 characters', tag: 't'.repeat(129) },
  ])('refuses $name naming tags', ({ tag }) => {
    const plan = () => planTags(['ok', tag], runContext());
    expect(plan).toThrow(InputError);
    expect(plan).toThrow("Input 'tags'");
    expect(plan).toThrow(`'${tag}'`);
  });

  test('no sha and no explicit tags is refused naming tags and GITHUB_SHA', () => {
    const plan = () => planTags([], runContext({ sha: '' }));
    expect(plan).toThrow(InputError);
    expect(plan).toThrow("Input 'tags'");
    expect(plan).toThrow('GITHUB_SHA');
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

  test('refuses a suffix that makes the tag longer than 128', () => {
    expect(() => platformTag(['t'.repeat(126)], 'amd64')).toThrow(InputError);
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
