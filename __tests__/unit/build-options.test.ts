import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import {
  builderRefusal,
  cacheCsv,
  checkOptionFiles,
  csvFields,
  MAX_SECRET_BYTES,
  NO_BUILD_OPTIONS,
  parseBuildContexts,
  parseCache,
  parseSecretFiles,
  parseSecrets,
  parseShmSize,
  parseSsh,
  parseUlimits,
  scopedCache,
  type BuildOptions,
} from '../../src/builder/options';
import { writeSecrets } from '../../src/builder/secrets';
import { ConfigError, parseConfig } from '../../src/config';
import { InputError } from '../../src/errors';
import { readImages, readInputs } from '../../src/inputs';
import { secretLikeBuildArgs } from '../../src/lint/lint';
import { inputSource } from './fixtures';

const IMAGE = { image: 'ghcr.io/org/worker' };
const SECRET = 'hunter2-s3cr3t=value';

/** The InputError a call throws (fails the test when it throws none, or something else). */
function refusal(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('no InputError was thrown');
}

describe('parseSecrets', () => {
  test.each([
    { name: 'one secret', raw: 'API_TOKEN=abc', want: [{ id: 'API_TOKEN', value: 'abc' }] },
    { name: 'the value keeps every = after the first', raw: 'pip=a=b==c', want: [{ id: 'pip', value: 'a=b==c' }] },
    { name: 'spaces inside and around the value are the value', raw: 'k= a b ', want: [{ id: 'k', value: ' a b ' }] },
    {
      name: 'one per line, blank lines and CRLF ends dropped',
      raw: 'a=1\r\n\n  \nb.c-d=2\r\n',
      want: [
        { id: 'a', value: '1' },
        { id: 'b.c-d', value: '2' },
      ],
    },
    { name: 'commas are part of the value, not separators', raw: 'x=1,2,3', want: [{ id: 'x', value: '1,2,3' }] },
  ])('$name', ({ raw, want }) => {
    expect(parseSecrets(raw)).toEqual(want);
  });

  test.each([
    { name: 'no =', raw: `${SECRET.replace('=', '')}`, says: /line 1 \(not shown\) is not ID=VALUE/ },
    { name: 'an id with a space', raw: `my id=${SECRET}`, says: /line 1 \(not shown\) is not ID=VALUE/ },
    { name: 'an id with a slash', raw: `a/b=${SECRET}`, says: /not ID=VALUE/ },
    { name: 'the second line is named by its number', raw: `ok=1\n${SECRET.replace('=', ' ')}`, says: /line 2 \(not shown\)/ },
    { name: 'an empty value (an unset repository secret)', raw: 'API_TOKEN=', says: /API_TOKEN has an empty value/ },
    { name: "a value over BuildKit's 500 KiB", raw: `big=${'x'.repeat(MAX_SECRET_BYTES + 1)}`, says: /big is 512001 bytes; BuildKit takes at most 512000/ },
  ])('refused, never showing the value: $name', ({ raw, says }) => {
    const e = refusal(() => parseSecrets(raw));
    expect(e.input).toBe('secrets');
    expect(e.message).toMatch(says);
    expect(e.message).not.toContain('hunter2');
  });
});

describe('parseSecretFiles and parseSsh', () => {
  test.each([
    {
      name: 'secret-files: ID=PATH per line',
      fn: () => parseSecretFiles('npmrc=/runner/tmp/.npmrc\naws = ./aws creds'),
      want: [
        { id: 'npmrc', path: '/runner/tmp/.npmrc' },
        { id: 'aws', path: './aws creds' },
      ],
    },
    { name: 'ssh: default alone is the agent of SSH_AUTH_SOCK', fn: () => parseSsh('default'), want: [{ id: 'default', paths: [] }] },
    { name: 'ssh: default=socket', fn: () => parseSsh('default=/tmp/agent.sock'), want: [{ id: 'default', paths: ['/tmp/agent.sock'] }] },
    { name: 'ssh: an id with two key files', fn: () => parseSsh('github=/k/a, /k/b'), want: [{ id: 'github', paths: ['/k/a', '/k/b'] }] },
  ])('$name', ({ fn, want }) => {
    expect(fn()).toEqual(want);
  });

  test.each([
    { name: 'secret-files without =', fn: () => parseSecretFiles('/tmp/x'), input: 'secret-files', says: /is not ID=PATH/ },
    {
      name: 'secret-files path with a comma (docker reads --secret as CSV)',
      fn: () => parseSecretFiles('a=/tmp/x,y'),
      input: 'secret-files',
      says: /holds a comma or a double quote/,
    },
    {
      name: 'ssh default= with nothing after (SSH_AUTH_SOCK unset when expanded)',
      fn: () => parseSsh('default='),
      input: 'ssh',
      says: /default= has no path .*SSH_AUTH_SOCK/,
    },
    { name: 'ssh id given twice', fn: () => parseSsh('default\ndefault=/a'), input: 'ssh', says: /default is given twice/ },
    { name: 'ssh id with a space', fn: () => parseSsh('my key=/a'), input: 'ssh', says: /is not default, ID or ID=PATH/ },
  ])('refused: $name', ({ fn, input, says }) => {
    const e = refusal(fn);
    expect(e.input).toBe(input);
    expect(e.message).toMatch(says);
  });
});

describe('parseCache', () => {
  test.each([
    { name: 'type=gha', raw: 'type=gha', input: 'cache-from' as const, want: [{ type: 'gha', attrs: [] }] },
    { name: 'gha with mode=max', raw: 'type=gha,mode=max', input: 'cache-to' as const, want: [{ type: 'gha', attrs: [['mode', 'max']] }] },
    {
      name: 'a bare ref is a registry cache',
      raw: 'ghcr.io/o/w:buildcache',
      input: 'cache-from' as const,
      want: [{ type: 'registry', attrs: [['ref', 'ghcr.io/o/w:buildcache']] }],
    },
    {
      name: 'registry with ref',
      raw: 'type=registry,ref=ghcr.io/o/w:c',
      input: 'cache-to' as const,
      want: [{ type: 'registry', attrs: [['ref', 'ghcr.io/o/w:c']] }],
    },
    {
      name: 'one per line',
      raw: 'type=gha\ntype=inline',
      input: 'cache-to' as const,
      want: [
        { type: 'gha', attrs: [] },
        { type: 'inline', attrs: [] },
      ],
    },
    {
      name: 'a quoted field keeps its comma',
      raw: 'type=local,"dest=/tmp/a,b"',
      input: 'cache-to' as const,
      want: [{ type: 'local', attrs: [['dest', '/tmp/a,b']] }],
    },
  ])('$name', ({ raw, input, want }) => {
    expect(parseCache(raw, input)).toEqual(want);
  });

  test.each([
    {
      name: 'unknown type',
      raw: 'type=redis',
      input: 'cache-from' as const,
      says: /type 'redis' is not a cache type; accepted: registry, local, gha, inline, s3, azblob/,
    },
    { name: 'registry without ref', raw: 'type=registry,mode=max', input: 'cache-to' as const, says: /type=registry needs ref=/ },
    { name: 'local export without dest', raw: 'type=local,src=/a', input: 'cache-to' as const, says: /type=local needs dest=/ },
    { name: 'mode other than min or max', raw: 'type=gha,mode=all', input: 'cache-to' as const, says: /mode='all' is not accepted; accepted: min, max/ },
    {
      name: 'a credential attribute (printed with the build command)',
      raw: 'type=gha,token=ghs_abc',
      input: 'cache-to' as const,
      says: /token= is a credential/,
    },
    { name: 'an s3 secret key', raw: 'type=s3,secret_access_key=abc', input: 'cache-from' as const, says: /secret_access_key= is a credential/ },
    { name: 'an attribute twice', raw: 'type=gha,scope=a,scope=b', input: 'cache-from' as const, says: /scope is given twice/ },
    { name: 'a field without =', raw: 'type=gha,max', input: 'cache-to' as const, says: /'max' in .* is not key=value/ },
    { name: 'an unclosed quote', raw: 'type=local,"dest=/a', input: 'cache-to' as const, says: /a double quote is not closed/ },
  ])('refused: $name', ({ raw, input, says }) => {
    const e = refusal(() => parseCache(raw, input));
    expect(e.input).toBe(input);
    expect(e.message).toMatch(says);
    expect(e.message).not.toContain('ghs_abc');
  });

  test.each([
    { name: 'plain fields', raw: 'a=1,b=2', want: ['a=1', 'b=2'] },
    { name: 'a doubled quote inside quotes is one quote', raw: '"a=x""y",b', want: ['a=x"y', 'b'] },
  ])('csvFields: $name', ({ raw, want }) => {
    expect(csvFields(raw)).toEqual(want);
  });
});

describe('scopedCache: one cache per image and platform unless the user scoped it', () => {
  const spec = (raw: string, input: 'cache-from' | 'cache-to' = 'cache-from') => parseCache(raw, input)[0];
  test.each([
    { name: 'gha gets scope=KEY', raw: 'type=gha', dir: 'from' as const, want: 'type=gha,scope=worker-amd64' },
    { name: 'gha keeps a given scope', raw: 'type=gha,scope=mine', dir: 'from' as const, want: 'type=gha,scope=mine' },
    {
      name: 'gha export also gets ignore-error=true',
      raw: 'type=gha,mode=max',
      dir: 'to' as const,
      want: 'type=gha,mode=max,scope=worker-amd64,ignore-error=true',
    },
    {
      name: 'an export keeps a given ignore-error',
      raw: 'type=gha,ignore-error=false',
      dir: 'to' as const,
      want: 'type=gha,ignore-error=false,scope=worker-amd64',
    },
    {
      name: 'a registry ref gets -KEY after its tag',
      raw: 'type=registry,ref=ghcr.io/o/w:buildcache',
      dir: 'from' as const,
      want: 'type=registry,ref=ghcr.io/o/w:buildcache-worker-amd64',
    },
    {
      name: 'a registry ref without tag gets :buildcache-KEY (a port is not a tag)',
      raw: 'localhost:5000/o/w',
      dir: 'from' as const,
      want: 'type=registry,ref=localhost:5000/o/w:buildcache-worker-amd64',
    },
    {
      name: 'a digest ref is read as it is',
      raw: `ghcr.io/o/w@sha256:${'a'.repeat(64)}`,
      dir: 'from' as const,
      want: `type=registry,ref=ghcr.io/o/w@sha256:${'a'.repeat(64)}`,
    },
    {
      name: 'a local directory gets -KEY',
      raw: 'type=local,dest=/tmp/cache/',
      dir: 'to' as const,
      want: 'type=local,dest=/tmp/cache-worker-amd64,ignore-error=true',
    },
    { name: 'inline is never scoped and has no ignore-error', raw: 'type=inline', dir: 'to' as const, want: 'type=inline' },
  ])('$name', ({ raw, dir, want }) => {
    expect(cacheCsv(scopedCache(spec(raw, dir === 'to' ? 'cache-to' : 'cache-from'), 'worker-amd64', dir))).toBe(want);
  });
});

describe('other option parsers', () => {
  test.each([
    { name: 'shm-size 2g', fn: () => parseShmSize('2g'), want: '2g' },
    { name: 'shm-size in upper case is lowered', fn: () => parseShmSize('512M'), want: '512m' },
    { name: 'shm-size empty is not set', fn: () => parseShmSize(' '), want: '' },
    { name: 'ulimit soft:hard', fn: () => parseUlimits('nofile=1024:2048'), want: [{ name: 'nofile', soft: 1024, hard: 2048 }] },
    { name: 'ulimit without hard is soft for both, as docker does', fn: () => parseUlimits('nproc=512'), want: [{ name: 'nproc', soft: 512, hard: 512 }] },
    { name: 'ulimit -1 is unlimited', fn: () => parseUlimits('memlock=-1:-1'), want: [{ name: 'memlock', soft: -1, hard: -1 }] },
    {
      name: 'build-contexts NAME=VALUE',
      fn: () => parseBuildContexts('alpine=docker-image://alpine:3.20\nsrc=../shared'),
      want: [
        { name: 'alpine', value: 'docker-image://alpine:3.20' },
        { name: 'src', value: '../shared' },
      ],
    },
  ])('$name', ({ fn, want }) => {
    expect(fn()).toEqual(want);
  });

  test.each([
    { name: 'shm-size with a unit docker does not know', fn: () => parseShmSize('2gb'), input: 'shm-size', says: /'2gb' is not a size/ },
    { name: 'shm-size 0', fn: () => parseShmSize('0'), input: 'shm-size', says: /above 0/ },
    { name: 'ulimit with an unknown name', fn: () => parseUlimits('files=10'), input: 'ulimit', says: /NAME one of core, cpu/ },
    { name: 'ulimit soft above hard', fn: () => parseUlimits('nofile=4096:1024'), input: 'ulimit', says: /soft limit 4096 is above the hard limit 1024/ },
    { name: 'ulimit soft unlimited under a finite hard', fn: () => parseUlimits('nofile=-1:1024'), input: 'ulimit', says: /soft limit -1 is above/ },
    { name: 'ulimit given twice', fn: () => parseUlimits('nofile=1\nnofile=2'), input: 'ulimit', says: /nofile is given twice/ },
    { name: 'build-contexts without =', fn: () => parseBuildContexts('alpine'), input: 'build-contexts', says: /is not NAME=VALUE/ },
    { name: 'build-contexts name twice', fn: () => parseBuildContexts('a=x\na=y'), input: 'build-contexts', says: /a is given twice/ },
  ])('refused: $name', ({ fn, input, says }) => {
    const e = refusal(fn);
    expect(e.input).toBe(input);
    expect(e.message).toMatch(says);
  });
});

describe('readInputs: the build options', () => {
  test.each([
    { name: 'defaults: none set', rec: {}, pick: (o: BuildOptions) => o, want: NO_BUILD_OPTIONS },
    { name: 'pull and no-cache are booleans', rec: { pull: 'true', 'no-cache': 'yes' }, pick: (o: BuildOptions) => [o.pull, o.noCache], want: [true, true] },
    { name: 'secrets with non-ASCII values', rec: { secrets: 'pw=pässwört' }, pick: (o: BuildOptions) => o.secrets, want: [{ id: 'pw', value: 'pässwört' }] },
  ])('$name', ({ rec, pick, want }) => {
    expect(pick(readInputs(inputSource({ ...IMAGE, ...rec })).build)).toEqual(want);
  });

  test.each([
    {
      name: 'a secret id in both secrets and secret-files',
      rec: { secrets: `tok=${SECRET}`, 'secret-files': 'tok=/tmp/x' },
      input: 'secret-files',
      says: /the secret id tok is given twice/,
    },
    {
      name: 'a control character in a secret value',
      rec: { secrets: `tok=${SECRET}\u0007` },
      input: 'secrets',
      says: /the value given \(not shown\) holds the control character U\+0007/,
    },
    { name: 'pull not a boolean', rec: { pull: 'always' }, input: 'pull', says: /'always' is not a boolean/ },
    { name: 'shm-size on two lines', rec: { 'shm-size': '1g\n2g' }, input: 'shm-size', says: /must be one line/ },
  ])('refused: $name', ({ rec, input, says }) => {
    const e = refusal(() => readInputs(inputSource({ ...IMAGE, ...rec })));
    expect(e.input).toBe(input);
    expect(e.message).toMatch(says);
    expect(e.message).not.toContain('hunter2');
  });

  test.each([
    { key: 'secrets', value: 'tok: abc' },
    { key: 'secret-files', value: 'tok: /tmp/x' },
    { key: 'ssh', value: 'default' },
  ])('ml-image.yml may not set $key: refused at its line, saying where secrets go', ({ key, value }) => {
    const text = `version: 1\nimages:\n  - name: a\n    image: ghcr.io/o/w\n    ${key}:\n      ${value}\n`;
    let e: unknown;
    try {
      parseConfig(text, 'ml-image.yml');
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toMatch(
      new RegExp(
        `^ml-image.yml:5: images\\[0\\]\\.${key}: secrets are not read from ml-image.yml: a file in the repository is the wrong place for them. Accepted: the action input '${key}'`,
      ),
    );
    expect((e as Error).message).not.toContain('abc');
  });

  test('an action input secret applies to every image of a config file', () => {
    const text = 'version: 1\nimages:\n  - name: a\n    image: ghcr.io/o/a\n  - name: b\n    image: ghcr.io/o/b\n';
    const images = readImages(inputSource({ config: 'ml-image.yml', secrets: 'tok=v' }), () => text);
    expect(images.map((i) => i.inputs.build.secrets)).toEqual([[{ id: 'tok', value: 'v' }], [{ id: 'tok', value: 'v' }]]);
  });
});

describe('builderRefusal: what each builder cannot do, named before any build', () => {
  const o = (over: Partial<BuildOptions>): BuildOptions => ({ ...NO_BUILD_OPTIONS, ...over });
  const gha = parseCache('type=gha', 'cache-to');
  test.each([
    {
      name: 'engine BuildKit: build-contexts',
      opts: o({ buildContexts: [{ name: 'a', value: 'b' }] }),
      buildx: false,
      driver: '',
      input: 'build-contexts',
      says: /named contexts need buildx.*engine BuildKit/,
    },
    {
      name: 'engine BuildKit: shm-size is not applied',
      opts: o({ shmSize: '1g' }),
      buildx: false,
      driver: '',
      input: 'shm-size',
      says: /does not apply it to RUN/,
    },
    {
      name: 'engine BuildKit: ulimit is not applied',
      opts: o({ ulimits: [{ name: 'nofile', soft: 1, hard: 1 }] }),
      buildx: false,
      driver: '',
      input: 'ulimit',
      says: /does not apply it to RUN/,
    },
    {
      name: 'engine BuildKit: cache-from type=gha',
      opts: o({ cacheFrom: parseCache('type=gha', 'cache-from') }),
      buildx: false,
      driver: '',
      input: 'cache-from',
      says: /type=gha needs buildx.*only from image refs/,
    },
    {
      name: 'engine BuildKit: cache-to type=gha',
      opts: o({ cacheTo: gha }),
      buildx: false,
      driver: '',
      input: 'cache-to',
      says: /type=gha needs buildx.*inline/,
    },
    {
      name: 'buildx docker driver: cache-to type=gha',
      opts: o({ cacheTo: gha }),
      buildx: true,
      driver: 'docker',
      input: 'cache-to',
      says: /docker driver, which cannot export a cache/,
    },
  ])('refused: $name', ({ opts, buildx, driver, input, says }) => {
    const e = builderRefusal(opts, buildx, driver);
    expect(e?.input).toBe(input);
    expect(e?.message).toMatch(says);
  });

  test.each([
    {
      name: 'engine BuildKit: secrets, ssh, pull, no-cache',
      opts: o({ secrets: [{ id: 'a', value: 'b' }], ssh: [{ id: 'default', paths: [] }], pull: true, noCache: true }),
      buildx: false,
      driver: '',
    },
    {
      name: 'engine BuildKit: cache-from an image ref and inline cache-to',
      opts: o({ cacheFrom: parseCache('ghcr.io/o/w:c', 'cache-from'), cacheTo: parseCache('type=inline', 'cache-to') }),
      buildx: false,
      driver: '',
    },
    {
      name: 'buildx docker-container: everything',
      opts: o({ cacheTo: gha, cacheFrom: parseCache('type=gha', 'cache-from'), shmSize: '1g', buildContexts: [{ name: 'a', value: 'b' }] }),
      buildx: true,
      driver: 'docker-container',
    },
    { name: 'buildx docker driver: inline cache-to', opts: o({ cacheTo: parseCache('type=inline', 'cache-to') }), buildx: true, driver: 'docker' },
  ])('accepted: $name', ({ opts, buildx, driver }) => {
    expect(builderRefusal(opts, buildx, driver)).toBeUndefined();
  });
});

describe('checkOptionFiles', () => {
  let dir: string;
  let server: net.Server;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlib-optfiles-'));
    fs.writeFileSync(path.join(dir, 'secret'), 'x');
    fs.writeFileSync(path.join(dir, 'big'), Buffer.alloc(MAX_SECRET_BYTES + 1));
    fs.mkdirSync(path.join(dir, 'a-dir'));
    fs.symlinkSync('/dev/zero', path.join(dir, 'to-zero'));
    server = net.createServer();
    await new Promise<void>((r) => server.listen(path.join(dir, 'agent.sock'), r));
  });
  afterAll(() => {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const o = (over: Partial<BuildOptions>): BuildOptions => ({ ...NO_BUILD_OPTIONS, ...over });

  test.each([
    { name: 'a regular file outside the workspace', opts: () => o({ secretFiles: [{ id: 's', path: path.join(dir, 'secret') }] }), env: {} },
    { name: 'an agent socket', opts: () => o({ ssh: [{ id: 'default', paths: [path.join(dir, 'agent.sock')] }] }), env: {} },
    { name: 'default with SSH_AUTH_SOCK set', opts: () => o({ ssh: [{ id: 'default', paths: [] }] }), env: { SSH_AUTH_SOCK: '/x' } },
  ])('accepted: $name', ({ opts, env }) => {
    expect(() => checkOptionFiles(opts(), env)).not.toThrow();
  });

  test.each([
    {
      name: 'a missing secret file',
      opts: () => o({ secretFiles: [{ id: 's', path: path.join(dir, 'nope') }] }),
      input: 'secret-files',
      says: /s: '.*nope' cannot be read \(ENOENT\)/,
    },
    {
      name: 'a directory',
      opts: () => o({ secretFiles: [{ id: 's', path: path.join(dir, 'a-dir') }] }),
      input: 'secret-files',
      says: /is not a regular file \(a directory\)/,
    },
    {
      name: 'a link to /dev/zero',
      opts: () => o({ secretFiles: [{ id: 's', path: path.join(dir, 'to-zero') }] }),
      input: 'secret-files',
      says: /is not a regular file \(a device, socket or FIFO\)/,
    },
    { name: 'a file over 500 KiB', opts: () => o({ secretFiles: [{ id: 's', path: path.join(dir, 'big') }] }), input: 'secret-files', says: /is 512001 bytes/ },
    { name: 'ssh default without SSH_AUTH_SOCK', opts: () => o({ ssh: [{ id: 'default', paths: [] }] }), input: 'ssh', says: /SSH_AUTH_SOCK is not set/ },
    {
      name: 'an ssh path that does not exist',
      opts: () => o({ ssh: [{ id: 'gh', paths: [path.join(dir, 'nope.sock')] }] }),
      input: 'ssh',
      says: /gh: '.*nope.sock' does not exist/,
    },
  ])('refused: $name', ({ opts, input, says }) => {
    const e = refusal(() => checkOptionFiles(opts(), {}));
    expect(e.input).toBe(input);
    expect(e.message).toMatch(says);
  });
});

describe('writeSecrets', () => {
  test('each value in its own 0600 file of a 0700 directory, told before writing; secret-files as given', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mlib-secrets-test-'));
    try {
      const dirs: string[] = [];
      const sources = writeSecrets(
        {
          secrets: [
            { id: 'tok', value: SECRET },
            { id: 'b', value: 'x\ty' },
          ],
          secretFiles: [{ id: 'f', path: '/runner/tmp/f' }],
        },
        root,
        (d) => dirs.push(d),
      );
      expect(dirs).toHaveLength(1);
      expect(fs.statSync(dirs[0]).mode & 0o777).toBe(0o700);
      expect(sources.map((s) => s.id)).toEqual(['tok', 'b', 'f']);
      expect(sources[2].src).toBe('/runner/tmp/f');
      expect(sources.slice(0, 2).map((s) => [path.dirname(s.src), fs.statSync(s.src).mode & 0o777, fs.readFileSync(s.src, 'utf8')])).toEqual([
        [dirs[0], 0o600, SECRET],
        [dirs[0], 0o600, 'x\ty'],
      ]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('no secrets: no directory', () => {
    const dirs: string[] = [];
    expect(writeSecrets({ secrets: [], secretFiles: [] }, os.tmpdir(), (d) => dirs.push(d))).toEqual([]);
    expect(dirs).toEqual([]);
  });
});

describe('secretLikeBuildArgs', () => {
  test.each([
    { name: 'API_TOKEN', warned: true },
    { name: 'HF_TOKEN', warned: true },
    { name: 'DB_PASSWORD', warned: true },
    { name: 'FTP_PASSWD', warned: true },
    { name: 'AWS_SECRET_ACCESS_KEY', warned: true },
    { name: 'GCP_CREDENTIALS', warned: true },
    { name: 'KEY', warned: true },
    { name: 'OPENAI_API_KEY', warned: true },
    { name: 'NPM_AUTH', warned: true },
    { name: 'apiToken', warned: true },
    { name: 'github-token', warned: true },
    { name: 'TOKENIZERS_PARALLELISM', warned: false },
    { name: 'MAX_TOKENS', warned: false },
    { name: 'AUTHOR', warned: false },
    { name: 'AUTH_URL', warned: false },
    { name: 'AWS_ACCESS_KEY_ID', warned: false },
    { name: 'KEYRING_BACKEND', warned: false },
    { name: 'HF_TOKEN_FILE', warned: false },
    { name: 'SECRET_NAME', warned: false },
    { name: 'SECRET_SHA', warned: false },
    { name: 'TOKEN_DIGEST', warned: false },
    { name: 'MONKEY', warned: false },
    { name: 'TORCH_VERSION', warned: false },
  ])('$name: warned $warned', ({ name, warned }) => {
    expect(secretLikeBuildArgs([{ name }])).toEqual(warned ? [name] : []);
  });

  test('a name given for two platforms is warned once', () => {
    expect(secretLikeBuildArgs([{ name: 'API_TOKEN' }, { name: 'API_TOKEN' }])).toEqual(['API_TOKEN']);
  });
});
