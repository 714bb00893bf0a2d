import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readContext, refNameOf, type RunContext } from '../../src/context';
import { runEnv, type RunName } from '../fixtures/events/runs';

const REPO_EVENT = {
  repositoryName: 'speech-worker',
  description: 'Diarization and transcription worker images with pinned torch builds',
  htmlUrl: 'https://github.com/acme-ml/speech-worker',
  license: 'Apache-2.0',
};

describe('readContext from recorded events', () => {
  test.each([
    {
      name: 'push to main',
      run: 'pushMain',
      want: {
        eventName: 'push',
        ref: 'refs/heads/main',
        refName: 'main',
        sha: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b',
        defaultBranch: 'main',
        headRef: '',
        baseRef: '',
        event: REPO_EVENT,
      },
    },
    { name: 'tag v1.2.3', run: 'tag', want: { eventName: 'push', ref: 'refs/tags/v1.2.3', refName: 'v1.2.3', defaultBranch: 'main', event: REPO_EVENT } },
    { name: 'pre-release tag', run: 'preRelease', want: { ref: 'refs/tags/v1.2.3-rc.1', refName: 'v1.2.3-rc.1', event: REPO_EVENT } },
    {
      name: 'schedule: no repository object in the payload',
      run: 'schedule',
      want: { eventName: 'schedule', refName: 'main', defaultBranch: undefined, event: {} },
    },
    {
      name: 'pull request 42',
      run: 'pullRequest',
      want: {
        eventName: 'pull_request',
        ref: 'refs/pull/42/merge',
        refName: '42/merge',
        headRef: 'feature/faster-decode',
        baseRef: 'main',
        defaultBranch: 'main',
        event: { ...REPO_EVENT, prNumber: 42 },
      },
    },
    {
      name: 'workflow_dispatch on a branch',
      run: 'dispatch',
      want: { eventName: 'workflow_dispatch', ref: 'refs/heads/feature/New_thing', refName: 'feature/New_thing', headRef: '', baseRef: '', event: REPO_EVENT },
    },
  ] as { name: string; run: RunName; want: Partial<RunContext> }[])('$name', ({ run, want }) => {
    const ctx = readContext(runEnv(run));
    expect(ctx).toMatchObject(want);
    expect(ctx.event).toEqual(want.event);
    expect(ctx).toMatchObject({ repository: 'acme-ml/speech-worker', serverUrl: 'https://github.com', runId: '12709321445', actor: 'octocat' });
  });

  test('pull request head and base refs come from the payload when GITHUB_HEAD_REF/GITHUB_BASE_REF are unset', () => {
    const ctx = readContext(runEnv('pullRequest', { GITHUB_HEAD_REF: undefined, GITHUB_BASE_REF: undefined }));
    expect([ctx.headRef, ctx.baseRef]).toEqual(['feature/faster-decode', 'main']);
  });
});

describe('readContext with a temporary event file', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctx-test-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const withEvent = (content: string, env: NodeJS.ProcessEnv = {}): RunContext => {
    const file = path.join(dir, `event-${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(file, content);
    return readContext({ GITHUB_EVENT_PATH: file, GITHUB_REF: 'refs/heads/main', ...env });
  };

  test.each([
    {
      name: 'null description and license are left out',
      payload: { repository: { name: 'w', description: null, license: null, default_branch: 'trunk' } },
      want: { repositoryName: 'w' },
      defaultBranch: 'trunk',
    },
    {
      name: 'NOASSERTION is kept as sent (labels drop it)',
      payload: { repository: { license: { spdx_id: 'NOASSERTION' } } },
      want: { license: 'NOASSERTION' },
      defaultBranch: undefined,
    },
    { name: 'an empty description is left out', payload: { repository: { description: '' } }, want: {}, defaultBranch: undefined },
    { name: 'the top-level number when there is no pull_request object', payload: { number: 7 }, want: { prNumber: 7 }, defaultBranch: undefined },
    { name: 'pull_request.number wins over number', payload: { number: 7, pull_request: { number: 8 } }, want: { prNumber: 8 }, defaultBranch: undefined },
    {
      name: 'a number that is not a positive whole number is left out',
      payload: { number: '7', pull_request: { number: 0 } },
      want: {},
      defaultBranch: undefined,
    },
    { name: 'a default_branch that is not a string is unknown', payload: { repository: { default_branch: 3 } }, want: {}, defaultBranch: undefined },
    { name: 'a repository that is not an object is ignored', payload: { repository: 'acme/w' }, want: {}, defaultBranch: undefined },
  ])('$name', ({ payload, want, defaultBranch }) => {
    const ctx = withEvent(JSON.stringify(payload));
    expect(ctx.event).toEqual(want);
    expect(ctx.defaultBranch).toBe(defaultBranch);
  });

  test.each([
    { name: 'malformed JSON', content: '{"repository": ' },
    { name: 'a JSON array', content: '[1, 2]' },
    { name: 'JSON null', content: 'null' },
    { name: 'an empty file', content: '' },
  ])('$name reads as an empty payload', ({ content }) => {
    const ctx = withEvent(content);
    expect(ctx.event).toEqual({});
    expect(ctx.defaultBranch).toBeUndefined();
    expect(ctx.ref).toBe('refs/heads/main');
  });

  test('a missing event file reads as an empty payload', () => {
    expect(readContext({ GITHUB_EVENT_PATH: path.join(dir, 'absent.json') })).toMatchObject({ event: {}, defaultBranch: undefined });
  });

  test('no GITHUB_EVENT_PATH: the defaults', () => {
    expect(readContext({ GITHUB_RUN_ID: '1' })).toEqual({
      sha: '',
      ref: '',
      refName: '',
      eventName: '',
      defaultBranch: undefined,
      headRef: '',
      baseRef: '',
      repository: '',
      serverUrl: 'https://github.com',
      runId: '1',
      localTagSuffix: `run1-1-${process.pid}`,
      actor: '',
      event: {},
    });
  });

  test('GITHUB_REF_NAME wins over the ref', () => {
    expect(withEvent('{}', { GITHUB_REF: 'refs/heads/a', GITHUB_REF_NAME: 'b' }).refName).toBe('b');
  });
});

describe('refNameOf', () => {
  test.each([
    { name: 'a branch', ref: 'refs/heads/feature/New_thing', want: 'feature/New_thing' },
    { name: 'a tag', ref: 'refs/tags/v1.2.3', want: 'v1.2.3' },
    { name: 'a pull request merge ref, as GITHUB_REF_NAME has it', ref: 'refs/pull/42/merge', want: '42/merge' },
    { name: 'no ref', ref: '', want: '' },
    { name: 'another kind of ref is kept', ref: 'refs/notes/x', want: 'refs/notes/x' },
  ])('$name', ({ ref, want }) => {
    expect(refNameOf(ref)).toBe(want);
    expect(readContext({ GITHUB_REF: ref }).refName).toBe(want);
  });
});
