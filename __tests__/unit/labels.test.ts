import { readContext } from '../../src/context';
import { parseLabels, planLabels, type LabelOptions, type TorchLabels } from '../../src/plan/labels';
import { runEnv, type RunName } from '../fixtures/events/runs';
import { FROZEN_ISO, runContext, SHA } from './fixtures';

const TORCH: TorchLabels = { torch: '2.2.2', torchaudio: '2.2.2' };
const opts = (over: Partial<LabelOptions> = {}): LabelOptions => ({ version: '1.2.3', created: FROZEN_ISO, ...over });
const ctxOf = (run: RunName, env: Record<string, string | undefined> = {}) => readContext(runEnv(run, env));

const REPO_URL = 'https://github.com/acme-ml/speech-worker';
const DESCRIPTION = 'Diarization and transcription worker images with pinned torch builds';

describe('planLabels from recorded events', () => {
  test('push to main: every OCI label from the payload, and the torch versions', () => {
    expect(planLabels(ctxOf('pushMain'), opts({ version: '9f86d08' }), TORCH)).toEqual({
      'org.opencontainers.image.source': REPO_URL,
      'org.opencontainers.image.revision': '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b',
      'org.opencontainers.image.created': FROZEN_ISO,
      'org.opencontainers.image.version': '9f86d08',
      'org.opencontainers.image.title': 'speech-worker',
      'org.opencontainers.image.description': DESCRIPTION,
      'org.opencontainers.image.licenses': 'Apache-2.0',
      'org.opencontainers.image.url': REPO_URL,
      'io.ml-image-build.torch.version': '2.2.2',
      'io.ml-image-build.torchaudio.version': '2.2.2',
    });
  });

  test('keys come OCI first, then torch, then extras', () => {
    const labels = planLabels(ctxOf('tag'), opts({ extra: { 'com.acme.team': 'speech' } }), { ...TORCH, torchvision: '0.17.2' });
    expect(Object.keys(labels)).toEqual([
      'org.opencontainers.image.source',
      'org.opencontainers.image.revision',
      'org.opencontainers.image.created',
      'org.opencontainers.image.version',
      'org.opencontainers.image.title',
      'org.opencontainers.image.description',
      'org.opencontainers.image.licenses',
      'org.opencontainers.image.url',
      'io.ml-image-build.torch.version',
      'io.ml-image-build.torchaudio.version',
      'io.ml-image-build.torchvision.version',
      'com.acme.team',
    ]);
  });

  test('a schedule payload without a repository object: title from GITHUB_REPOSITORY, url is the source, no description or licenses', () => {
    const labels = planLabels(ctxOf('schedule'), opts({ version: 'nightly-20260102' }), TORCH);
    expect(labels['org.opencontainers.image.title']).toBe('speech-worker');
    expect(labels['org.opencontainers.image.url']).toBe(REPO_URL);
    expect(labels['org.opencontainers.image.version']).toBe('nightly-20260102');
    expect(labels).not.toHaveProperty('org.opencontainers.image.description');
    expect(labels).not.toHaveProperty('org.opencontainers.image.licenses');
  });
});

describe('planLabels values', () => {
  const base = () =>
    runContext({ event: { repositoryName: 'worker', description: 'from the payload', license: 'MIT', htmlUrl: 'https://github.com/org/worker' } });
  test.each([
    { name: 'title given wins over the repository name', o: { title: 'Speech worker' }, key: 'title', want: 'Speech worker' },
    { name: "title '' falls back to the repository name", o: { title: '' }, key: 'title', want: 'worker' },
    { name: 'description given wins over the payload', o: { description: 'given' }, key: 'description', want: 'given' },
    { name: "description '' falls back to the payload", o: { description: '' }, key: 'description', want: 'from the payload' },
    { name: 'licenses given wins over the payload', o: { licenses: 'Apache-2.0 AND MIT' }, key: 'licenses', want: 'Apache-2.0 AND MIT' },
    { name: 'licenses from the payload spdx_id', o: {}, key: 'licenses', want: 'MIT' },
    { name: 'version as given', o: { version: 'pr-42' }, key: 'version', want: 'pr-42' },
    { name: 'created as given', o: { created: '2025-12-31T23:59:00Z' }, key: 'created', want: '2025-12-31T23:59:00Z' },
    { name: 'revision is the full sha', o: {}, key: 'revision', want: SHA },
    { name: 'source is serverUrl/repository', o: {}, key: 'source', want: 'https://github.com/org/worker' },
    {
      name: 'an extra label wins over a computed one',
      o: { extra: { 'org.opencontainers.image.url': 'https://docs.example.com' } },
      key: 'url',
      want: 'https://docs.example.com',
    },
  ] as { name: string; o: Partial<LabelOptions>; key: string; want: string }[])('$name', ({ o, key, want }) => {
    expect(planLabels(base(), opts(o), TORCH)[`org.opencontainers.image.${key}`]).toBe(want);
  });

  test.each([
    {
      name: 'licenses when GitHub could not name the license (NOASSERTION)',
      ctx: runContext({ event: { license: 'NOASSERTION' } }),
      o: {},
      key: 'org.opencontainers.image.licenses',
    },
    { name: 'description when neither given nor in the payload', ctx: runContext(), o: {}, key: 'org.opencontainers.image.description' },
    { name: 'revision without a sha', ctx: runContext({ sha: '' }), o: {}, key: 'org.opencontainers.image.revision' },
    { name: 'source without a repository', ctx: runContext({ repository: '' }), o: {}, key: 'org.opencontainers.image.source' },
    { name: 'url without a repository or html_url', ctx: runContext({ repository: '' }), o: {}, key: 'org.opencontainers.image.url' },
    { name: 'title without a repository', ctx: runContext({ repository: '' }), o: {}, key: 'org.opencontainers.image.title' },
    { name: "version ''", ctx: runContext(), o: { version: '' }, key: 'org.opencontainers.image.version' },
    { name: 'a whitespace-only description', ctx: runContext(), o: { description: '  ' }, key: 'org.opencontainers.image.description' },
    {
      name: "a computed label an extra sets to ''",
      ctx: base(),
      o: { extra: { 'org.opencontainers.image.licenses': '' } },
      key: 'org.opencontainers.image.licenses',
    },
    { name: 'torchvision when not given', ctx: runContext(), o: {}, key: 'io.ml-image-build.torchvision.version' },
  ] as { name: string; ctx: ReturnType<typeof runContext>; o: Partial<LabelOptions>; key: string }[])('leaves out $name', ({ ctx, o, key }) => {
    expect(planLabels(ctx, opts(o), TORCH)).not.toHaveProperty([key]);
  });

  test.each([
    { name: 'torch and torchaudio', torch: TORCH, want: { 'io.ml-image-build.torch.version': '2.2.2', 'io.ml-image-build.torchaudio.version': '2.2.2' } },
    {
      name: 'torchvision when given',
      torch: { torch: '2.2.2', torchaudio: '2.2.2', torchvision: '0.17.2' },
      want: { 'io.ml-image-build.torch.version': '2.2.2', 'io.ml-image-build.torchaudio.version': '2.2.2', 'io.ml-image-build.torchvision.version': '0.17.2' },
    },
    {
      name: "not torchvision ''",
      torch: { torch: '1.13.1', torchaudio: '0.13.1', torchvision: '' },
      want: { 'io.ml-image-build.torch.version': '1.13.1', 'io.ml-image-build.torchaudio.version': '0.13.1' },
    },
  ])('torch labels: $name', ({ torch, want }) => {
    const labels = planLabels(runContext(), opts(), torch);
    const own = Object.fromEntries(Object.entries(labels).filter(([k]) => k.startsWith('io.ml-image-build.')));
    expect(own).toEqual(want);
  });

  test('GitHub Enterprise: source uses the server URL, url the payload html_url', () => {
    const ctx = runContext({ serverUrl: 'https://ghe.example.com/', repository: 'ml/worker', event: { htmlUrl: 'https://ghe.example.com/ml/worker' } });
    const labels = planLabels(ctx, opts(), TORCH);
    expect(labels['org.opencontainers.image.source']).toBe('https://ghe.example.com/ml/worker');
    expect(labels['org.opencontainers.image.url']).toBe('https://ghe.example.com/ml/worker');
  });

  test('extra labels are added', () => {
    expect(planLabels(runContext(), opts({ extra: { 'com.acme.team': 'speech' } }), TORCH)['com.acme.team']).toBe('speech');
  });
});

describe('parseLabels (the labels input, metadata-action style)', () => {
  test.each([
    {
      name: 'key=value lines',
      raw: 'org.opencontainers.image.title=worker\ncom.acme.team=speech',
      want: { 'org.opencontainers.image.title': 'worker', 'com.acme.team': 'speech' },
    },
    { name: 'the first = ends the key', raw: 'com.acme.args=--a=b', want: { 'com.acme.args': '--a=b' } },
    {
      name: 'commas stay in the value',
      raw: 'org.opencontainers.image.description=ASR, diarization',
      want: { 'org.opencontainers.image.description': 'ASR, diarization' },
    },
    {
      name: 'an empty value is kept (it removes the label)',
      raw: 'org.opencontainers.image.description=',
      want: { 'org.opencontainers.image.description': '' },
    },
    { name: 'any letters in a value', raw: 'org.opencontainers.image.title=Sprach-Wörker 語', want: { 'org.opencontainers.image.title': 'Sprach-Wörker 語' } },
    { name: 'blank and CRLF lines', raw: '\r\na.b=1\r\n\n', want: { 'a.b': '1' } },
  ])('$name', ({ raw, want }) => {
    expect(parseLabels(raw)).toEqual(want);
  });

  test.each([
    { name: 'no =', raw: 'com.acme.team', says: "Input 'labels': 'com.acme.team' is not key=value" },
    { name: 'a key starting with =', raw: '=x', says: "'=x' is not key=value" },
    { name: 'a key with a space', raw: 'com acme=x', says: "'com acme' in 'com acme=x' is not a key" },
    { name: 'a key ending in a dot', raw: 'com.acme.=x', says: 'is not a key' },
    { name: 'a key over 256 characters', raw: `${'a'.repeat(257)}=x`, says: 'is not a key' },
    {
      name: "the action's own torch label",
      raw: 'io.ml-image-build.torch.version=9',
      says: 'io.ml-image-build.torch.version is in the io.ml-image-build.* namespace the action sets itself',
    },
    { name: "the action's namespace in capitals", raw: 'IO.ML-IMAGE-BUILD.platform=x', says: 'io.ml-image-build.* namespace' },
    { name: 'a key twice', raw: 'a.b=1\na.b=2', says: 'a.b is given twice' },
    { name: 'a value over 8 KiB', raw: `a.b=${'x'.repeat(8193)}`, says: 'the value of a.b is 8193 bytes' },
    {
      name: 'over 64 KiB together',
      raw: Array.from({ length: 9 }, (_, i) => `k${i}=${'x'.repeat(8000)}`).join('\n'),
      says: 'the labels are over 65536 bytes together',
    },
  ])('refused: $name', ({ raw, says }) => {
    expect(() => parseLabels(raw)).toThrow(says);
  });
});

describe('planLabels with the labels input merged', () => {
  const user = parseLabels(
    'org.opencontainers.image.title=Speech worker\norg.opencontainers.image.version=1.2.3\norg.opencontainers.image.description=\ncom.acme.team=speech',
  );
  const labels = planLabels(ctxOf('pushMain'), opts({ version: '9f86d08', extra: user }), TORCH);
  test.each([
    { name: "the user's OCI title wins", key: 'org.opencontainers.image.title', want: 'Speech worker' },
    { name: "the user's version wins", key: 'org.opencontainers.image.version', want: '1.2.3' },
    { name: 'an empty user value removes the label', key: 'org.opencontainers.image.description', want: undefined },
    { name: 'derived labels the user left alone stay', key: 'org.opencontainers.image.revision', want: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b' },
    { name: "the user's own key is added", key: 'com.acme.team', want: 'speech' },
    { name: 'the torch label stands', key: 'io.ml-image-build.torch.version', want: '2.2.2' },
  ])('$name', ({ key, want }) => {
    expect(labels[key]).toBe(want);
  });
});
