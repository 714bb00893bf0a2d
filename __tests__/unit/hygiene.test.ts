import {
  configFindings,
  DEFAULT_HYGIENE,
  isRootUser,
  modelCachePath,
  parseHygiene,
  parseMemory,
  parseModelCache,
  probeFindings,
} from '../../src/verify/hygiene';

describe('parseMemory', () => {
  test.each([
    { raw: '', bytes: undefined },
    { raw: 'none', bytes: undefined },
    { raw: '512m', bytes: 512 * 2 ** 20 },
    { raw: '6g', bytes: 6 * 2 ** 30 },
    { raw: '1.5G', bytes: 1.5 * 2 ** 30 },
    { raw: '256MiB', bytes: 256 * 2 ** 20 },
    { raw: '7000000', bytes: 7000000 },
    { raw: '8192k', bytes: 8192 * 1024 },
  ])('$raw is $bytes bytes', ({ raw, bytes }) => {
    expect(parseMemory(raw)?.bytes).toBe(bytes);
  });

  test.each(['6x', '-1g', 'lots', '1m', '5000000', '1e3m', '2t', 'g'])('%s is refused naming the input and what is accepted', (raw) => {
    expect(() => parseMemory(raw)).toThrow(/Input 'memory': '.*' is not a memory limit; accepted: a size of at least 6m/);
  });
});

describe('model cache', () => {
  test.each([
    { raw: '', want: 'auto' },
    { raw: 'none', want: 'none' },
    { raw: '/models/', want: '/models' },
    { raw: '/home/worker/.cache', want: '/home/worker/.cache' },
  ])('input $raw reads as $want', ({ raw, want }) => expect(parseModelCache(raw)).toBe(want));

  test.each(['models', '/', '/a b', '/a:/b', '/x/../etc', 'C:\\models'])('input %s is refused', (raw) => {
    expect(() => parseModelCache(raw)).toThrow(/Input 'model-cache': .* accepted: auto, none, or an absolute path/);
  });

  test.each([
    { name: 'HF_HOME wins', option: 'auto', env: { HF_HOME: '/models/hf', XDG_CACHE_HOME: '/cache' }, want: '/models/hf' },
    { name: 'then XDG_CACHE_HOME', option: 'auto', env: { XDG_CACHE_HOME: '/cache/' }, want: '/cache' },
    { name: 'a relative HF_HOME is not a mount point', option: 'auto', env: { HF_HOME: 'models' }, want: '/models' },
    { name: 'nothing set', option: 'auto', env: {}, want: '/models' },
    { name: 'given path', option: '/data', env: { HF_HOME: '/models' }, want: '/data' },
    { name: 'none', option: 'none', env: { HF_HOME: '/models' }, want: undefined },
  ])('$name', ({ option, env, want }) => expect(modelCachePath(option, env as Record<string, string>)).toBe(want));
});

describe('root user', () => {
  test.each([
    { user: '', root: true },
    { user: 'root', root: true },
    { user: '0', root: true },
    { user: '0:0', root: true },
    { user: 'root:worker', root: true },
    { user: 'worker', root: false },
    { user: '10001:10001', root: false },
    { user: 'rootless', root: false },
  ])('USER "$user" root: $root', ({ user, root }) => expect(isRootUser(user)).toBe(root));
});

describe('config findings', () => {
  const hc = { test: ['CMD', 'true'], intervalS: 30, timeoutS: 5, startPeriodS: 60, retries: 3 };
  test.each([
    { name: 'hygienic', cfg: { user: 'worker', env: {}, healthcheck: hc }, opts: DEFAULT_HYGIENE, checks: [] },
    { name: 'no USER', cfg: { user: '', env: {}, healthcheck: hc }, opts: DEFAULT_HYGIENE, checks: ['non-root user'] },
    { name: 'root allowed', cfg: { user: '', env: {}, healthcheck: hc }, opts: { ...DEFAULT_HYGIENE, nonRoot: false }, checks: [] },
    { name: 'no HEALTHCHECK', cfg: { user: 'worker', env: {} }, opts: DEFAULT_HYGIENE, checks: ['healthcheck'] },
    { name: 'HEALTHCHECK optional', cfg: { user: 'worker', env: {} }, opts: { ...DEFAULT_HYGIENE, healthcheck: 'optional' as const }, checks: [] },
    { name: 'both', cfg: { user: 'root', env: {} }, opts: DEFAULT_HYGIENE, checks: ['non-root user', 'healthcheck'] },
  ])('$name', ({ cfg, opts, checks }) => {
    expect(configFindings(cfg, opts).map((f) => f.check)).toEqual(checks);
  });
});

describe('hygiene probe output', () => {
  // Lines as HYGIENE_SCRIPT prints them (its real runs are in __tests__/e2e/hygiene.test.ts); the numbers are made up.
  const writable = 'MLIB_HYGIENE {"uid": 10001, "gid": 10001, "cacheWritable": true, "peakMemory": 20746240}';
  const denied = `MLIB_HYGIENE {"uid": 10001, "gid": 10001, "cacheWritable": false, "cacheError": "PermissionError(13, 'Permission denied')", "peakMemory": 19034112}`;

  test('parses the line among other output', () => {
    expect(parseHygiene(`warning: something\n${writable}\n`)).toEqual({ uid: 10001, gid: 10001, cacheWritable: true, peakMemory: 20746240 });
  });
  test('no line: an error that shows the output', () => {
    expect(() => parseHygiene('exec failed: python3 not found')).toThrow(/printed no result; output was: exec failed/);
  });
  test.each([
    { name: 'writable', out: writable, user: 'worker', checks: [] },
    { name: 'denied', out: denied, user: 'worker', checks: ['model cache writable'] },
    { name: 'a named user that is uid 0', out: 'MLIB_HYGIENE {"uid": 0, "gid": 0, "cacheWritable": true}', user: 'toor', checks: ['non-root user'] },
  ])('$name', ({ out, user, checks }) => {
    expect(probeFindings(parseHygiene(out), DEFAULT_HYGIENE, '/models', user).map((f) => f.check)).toEqual(checks);
  });
  test('the cache finding says what to change', () => {
    const [f] = probeFindings(parseHygiene(denied), DEFAULT_HYGIENE, '/models', 'worker');
    expect(f.expected).toBe('uid 10001 can create a file in an empty volume mounted at /models');
    expect(f.actual).toMatch(/^PermissionError\(13, 'Permission denied'\) \(make the directory in the image and chown it/);
  });
});
