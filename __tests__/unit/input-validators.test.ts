import { ConfigError, parseConfig } from '../../src/config';
import { InputError, shown } from '../../src/errors';
import {
  checkText,
  INPUT_SHAPES,
  parseBuildArgs,
  parseDigests,
  parseExpect,
  parseIndexUrl,
  parseTokenEnv,
  parseWorkerToken,
  readInputs,
} from '../../src/inputs';
import { MAX_BUILD_ARG_BYTES } from '../../src/limits';
import { parseImage } from '../../src/plan/image';
import { inputSource } from './fixtures';

/** The message of what `fn` throws, and that it is an InputError naming `input`. */
function refusal(fn: () => unknown, input: string): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).input).toBe(input);
    return (e as Error).message;
  }
  throw new Error(`accepted; expected a refusal naming '${input}'`);
}

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('checkText: what any input may hold before its own parser reads it', () => {
  test.each([
    { name: 'a newline in a one-line input', input: 'target', raw: 'base\nruntime', says: 'must be one line' },
    { name: 'a lone carriage return in a one-line input', input: 'python', raw: 'python3\rx', says: 'must be one line' },
    { name: 'an escape character', input: 'build-args', raw: 'A=\u001b[2J', says: 'control character U+001B' },
    { name: 'a NUL', input: 'tags', raw: 'v1\u0000', says: 'control character U+0000' },
    { name: 'a C1 control', input: 'image', raw: 'ghcr.io/o/w\u0085', says: 'control character U+0085' },
    { name: 'a lone carriage return in a list input', input: 'build-args', raw: 'A=1\rB=2', says: 'control character U+000D' },
    { name: 'a right-to-left override', input: 'target', raw: 'base\u202e', says: 'invisible formatting character U+202E' },
    { name: 'a zero-width space', input: 'image', raw: 'ghcr.io/o/w\u200b', says: 'invisible formatting character U+200B' },
    { name: 'the Kelvin sign, which lowercases to k', input: 'image', raw: 'ghcr.io/o/wor\u212Aer', says: "non-ASCII character '\u212A' (U+212A)" },
    { name: 'an accent where only ASCII is accepted', input: 'ping-path', raw: '/v1/p\u00efng', says: 'U+00EF' },
    { name: 'a one-line value over 4096 characters', input: 'network', raw: 'h'.repeat(4097), says: 'longer than 4096 characters' },
  ])('refuses $name', ({ input, raw, says }) => {
    expect(refusal(() => checkText(raw, input, INPUT_SHAPES[input]), input)).toContain(says);
  });

  test.each([
    { name: 'a list over lines', input: 'tags', raw: 'v1\nv2' },
    { name: 'CRLF line ends in a list', input: 'build-args', raw: 'A=1\r\nB=2' },
    { name: 'tabs in YAML checks', input: 'checks', raw: '- name: a\n  exec: "printf \'\\t\'"\t' },
    { name: 'non-ASCII in a build arg value', input: 'build-args', raw: 'GREETING=gr\u00fc\u00dfe' },
    { name: 'non-ASCII in a path', input: 'context', raw: 'w\u00f6rker' },
    { name: 'a password with non-ASCII', input: 'registry-password', raw: 'p\u00e4ss' },
  ])('accepts $name', ({ input, raw }) => {
    expect(() => checkText(raw, input, INPUT_SHAPES[input])).not.toThrow();
  });

  test('a secret is never shown', () => {
    for (const raw of ['s3cret\nx', 's3cret\u001b', 's3cret\u202e']) {
      expect(refusal(() => checkText(raw, 'registry-password', INPUT_SHAPES['registry-password']), 'registry-password')).not.toContain('s3cret');
    }
  });

  test('every input of action.yml has a shape', () => {
    const spec = require('js-yaml').load(require('fs').readFileSync(require('path').join(__dirname, '../../action.yml'), 'utf8')).inputs as Record<
      string,
      unknown
    >;
    // worker-token has its own, stricter rule (parseWorkerToken).
    expect(Object.keys(spec).filter((name) => !INPUT_SHAPES[name] && name !== 'worker-token')).toEqual([]);
  });
});

describe('shown: values in messages', () => {
  test.each([
    { name: 'plain', raw: 'abc', want: "'abc'" },
    { name: 'a newline escaped', raw: 'a\nb', want: '"a\\u000ab"' },
    { name: 'a bidi override escaped', raw: 'a\u202eb', want: '"a\\u202eb"' },
    { name: 'visible non-ASCII kept', raw: 'stag\u00e9', want: "'stag\u00e9'" },
    { name: 'long values cut', raw: 'x'.repeat(100), want: `'${'x'.repeat(80)}... (100 characters)'` },
  ])('$name', ({ raw, want }) => {
    expect(shown(raw)).toBe(want);
  });
});

describe('parseTokenEnv', () => {
  test.each(['WORKER_TOKEN', 'API_KEY', 'my_worker_token', '_T'])('accepts %s', (name) => {
    expect(parseTokenEnv(name)).toBe(name);
  });
  test('empty is WORKER_TOKEN', () => expect(parseTokenEnv('')).toBe('WORKER_TOKEN'));

  test.each([
    { name: 'DOCKER_HOST', says: 'Docker and BuildKit (DOCKER_*)' },
    { name: 'BUILDKIT_HOST', says: 'BUILDKIT_*' },
    { name: 'PATH', says: 'the shell and the system (PATH)' },
    { name: 'path', says: '(PATH)' },
    { name: 'LD_PRELOAD', says: 'the dynamic loader and C library (LD_*)' },
    { name: 'HOME', says: 'HOME' },
    { name: 'https_proxy', says: 'HTTP clients' },
    { name: 'NO_PROXY', says: 'NO_PROXY' },
    { name: 'PYTHONHOME', says: 'Python (PYTHON*)' },
    { name: 'NVIDIA_VISIBLE_DEVICES', says: 'the GPU runtime' },
    { name: 'GITHUB_TOKEN', says: 'the runner (GITHUB_*)' },
    { name: 'ACTIONS_RUNTIME_TOKEN', says: 'ACTIONS_*' },
    { name: 'HF_HUB_OFFLINE', says: 'verification' },
    { name: 'MY-TOKEN', says: 'not an environment variable name' },
    { name: '1TOKEN', says: 'not an environment variable name' },
    { name: 'T'.repeat(129), says: 'not an environment variable name' },
  ])('refuses $name', ({ name, says }) => {
    expect(refusal(() => parseTokenEnv(name), 'token-env')).toContain(says);
  });
});

describe('parseWorkerToken: refused at input, never shown', () => {
  const base = 'tok-S3cr3t-value';
  test.each([
    { name: 'a newline', raw: `${base}\nx`, says: 'holds a newline' },
    { name: 'a non-ASCII character', raw: `${base}\u00e9`, says: 'non-ASCII' },
    { name: 'a space', raw: `${base} x`, says: 'space or control character' },
    { name: 'a tab', raw: `${base}\tx`, says: 'space or control character' },
    { name: 'a DEL', raw: `${base}\u007f`, says: 'space or control character' },
    { name: '7 characters', raw: 'abcdefg', says: 'is 7 characters' },
    { name: '4097 characters', raw: `${base}${'t'.repeat(4097)}`, says: 'characters' },
  ])('refuses $name', ({ raw, says }) => {
    const message = refusal(() => parseWorkerToken(raw), 'worker-token');
    expect(message).toContain(says);
    expect(message).not.toContain(raw.slice(0, 7));
  });

  test.each([
    { name: 'empty: generated per run', raw: '', want: '' },
    { name: 'hex', raw: 'a1b2c3d4e5f6', want: 'a1b2c3d4e5f6' },
    { name: 'base64 with + / =', raw: 'dG9r+ZW4/x==', want: 'dG9r+ZW4/x==' },
    { name: 'punctuation', raw: 'tok!#$%&*', want: 'tok!#$%&*' },
    { name: 'surrounding whitespace trimmed', raw: '  tok-12345678\n', want: 'tok-12345678' },
  ])('accepts $name', ({ raw, want }) => {
    expect(parseWorkerToken(raw)).toBe(want);
  });
});

describe('parseIndexUrl', () => {
  test.each([
    { name: 'ftp', raw: 'ftp://mirror/whl', says: 'not an http(s) URL' },
    { name: 'not a URL', raw: 'https://[::1', says: 'not an http(s) URL' },
    { name: 'no host', raw: 'http://', says: 'not an http(s) URL' },
    { name: 'credentials, masked', raw: 'https://user:pw-S3cret@pypi.example.com/whl', says: "'https://***@pypi.example.com/whl' holds credentials" },
    { name: 'a user only', raw: 'https://token@pypi.example.com/whl', says: 'holds credentials' },
  ])('refuses $name', ({ raw, says }) => {
    const message = refusal(() => parseIndexUrl(raw), 'torch-index-url');
    expect(message).toContain(says);
    expect(message).not.toContain('S3cret');
  });
  test.each(['https://download.pytorch.org/whl', 'http://127.0.0.1:8080/whl/', 'https://mirror.example.com:8443/pytorch/whl'])('accepts %s', (url) => {
    expect(parseIndexUrl(url)).toBe(url);
  });
});

describe('parseExpect: one value per key and platform, values that can be versions', () => {
  test.each([
    { name: 'cuda twice on one line (last would win)', raw: 'linux/amd64: cuda=12.1 cuda=none', says: 'cuda is given twice for linux/amd64' },
    { name: 'torch twice over two lines', raw: 'linux/arm64: torch=2.2.2\nlinux/arm64: torch=2.2.1', says: 'torch is given twice for linux/arm64' },
    { name: 'twice through an alias', raw: 'linux/arm64: cuda=none\nlinux/arm64/v8: cuda=none', says: 'cuda is given twice for linux/arm64' },
    { name: 'cuda not MAJOR.MINOR', raw: 'linux/amd64: cuda=12', says: 'not a CUDA version' },
    { name: 'a torch version that is a word', raw: 'linux/amd64: torch=latest', says: 'is not a version' },
  ])('refuses $name', ({ raw, says }) => {
    expect(refusal(() => parseExpect(raw), 'expect')).toContain(says);
  });
  test.each([
    {
      raw: 'linux/amd64: torch=2.2.2+cu121 torchaudio=2.2.2+cu121 cuda=12.1',
      want: { 'linux/amd64': { torch: '2.2.2+cu121', torchaudio: '2.2.2+cu121', cuda: '12.1' } },
    },
    { raw: 'linux/arm64: torch=1.13.0a0\nlinux/arm64: cuda=none', want: { 'linux/arm64': { torch: '1.13.0a0', cuda: null } } },
    { raw: 'linux/amd64: torch=2.3.0.dev20240101+cpu', want: { 'linux/amd64': { torch: '2.3.0.dev20240101+cpu' } } },
  ])('accepts $raw', ({ raw, want }) => {
    expect(parseExpect(raw)).toEqual(want);
  });
});

describe('parseBuildArgs: duplicates and size', () => {
  test.each([
    { name: 'a shared arg twice', raw: 'A=1\nA=2', says: 'A is given twice;' },
    { name: 'a platform arg twice', raw: 'linux/arm64:A=1\nlinux/arm64/v8:A=2', says: 'A is given twice for linux/arm64' },
    { name: 'one arg over the limit', raw: `BIG=${'x'.repeat(MAX_BUILD_ARG_BYTES)}`, says: `a build arg is at most ${MAX_BUILD_ARG_BYTES} bytes` },
    { name: 'the limit counts bytes, not characters', raw: `BIG=${'\u00e9'.repeat(MAX_BUILD_ARG_BYTES / 2)}`, says: 'bytes' },
    {
      name: 'all args over the total',
      raw: ['A', 'B', 'C', 'D', 'E'].map((n) => `${n}=${'y'.repeat(60 * 1024)}`).join('\n'),
      says: 'over 262144 bytes together',
    },
  ])('refuses $name', ({ raw, says }) => {
    expect(refusal(() => parseBuildArgs(raw), 'build-args')).toContain(says);
  });
  test('a platform arg over a shared one of the same name is the way to differ', () => {
    expect(parseBuildArgs('A=1\nlinux/arm64:A=2')).toEqual([
      { platform: undefined, name: 'A', value: '1' },
      { platform: 'linux/arm64', name: 'A', value: '2' },
    ]);
  });
  test('an arg just under the limit is accepted', () => {
    expect(parseBuildArgs(`B=${'x'.repeat(MAX_BUILD_ARG_BYTES - 2)}`)[0].value.length).toBe(MAX_BUILD_ARG_BYTES - 2);
  });
});

describe('parseDigests', () => {
  test('a platform twice', () => {
    expect(refusal(() => parseDigests(`linux/amd64=${DIGEST}\nlinux/x86_64=${DIGEST}`), 'digests')).toContain('linux/amd64 is given twice');
  });
});

describe('parseImage: docker reference limits, ASCII before lowercasing', () => {
  test.each([
    { name: 'the Kelvin sign (lowercases to k)', raw: 'ghcr.io/o/wor\u212Aer', says: 'U+212A' },
    { name: 'registry port 0', raw: '127.0.0.1:0/o/w', says: 'the registry port 0 is not a port' },
    { name: 'registry port 65536', raw: 'localhost:65536/o/w', says: 'the registry port 65536 is not a port' },
    { name: '256 characters', raw: `ghcr.io/o/${'a'.repeat(246)}`, says: 'is 256 characters' },
    { name: 'a host label of 64', raw: `${'h'.repeat(64)}.example.com/o/w`, says: 'a DNS label is at most 63' },
  ])('refuses $name', ({ raw, says }) => {
    expect(refusal(() => parseImage(raw), 'image')).toContain(says);
  });
  test.each([`ghcr.io/o/${'a'.repeat(245)}`, 'localhost:65535/o/w', '127.0.0.1:1/o/w', 'GHCR.io/MyOrg/Worker'])('accepts %s', (raw) => {
    expect(() => parseImage(raw)).not.toThrow();
  });
});

describe('readInputs: inputs refused before any build', () => {
  const IMAGE = { image: 'ghcr.io/org/worker' };
  test.each([
    { name: 'digests outside merge mode', rec: { digests: `linux/amd64=${DIGEST}` }, input: 'digests', says: "are for mode 'merge'" },
    { name: 'digests in platform mode', rec: { mode: 'platform', digests: `linux/amd64=${DIGEST}` }, input: 'digests', says: "mode is 'platform'" },
    { name: 'a target with a space', rec: { target: 'build stage' }, input: 'target', says: 'not a Dockerfile stage name' },
    { name: 'a target that reads as a flag', rec: { target: '--no-cache' }, input: 'target', says: 'not a Dockerfile stage name' },
    { name: 'a network BuildKit has not', rec: { network: 'mynet' }, input: 'network', says: 'accepted: default, none, host' },
    { name: 'python with an argument', rec: { python: 'python3 -I' }, input: 'python', says: 'not an interpreter' },
    { name: 'python as a flag', rec: { python: '-c' }, input: 'python', says: 'not an interpreter' },
    { name: 'a ping path with a space', rec: { 'ping-path': '/v1/ping now' }, input: 'ping-path', says: 'not a URL path' },
    { name: 'a registry user with a colon', rec: { 'registry-username': 'octo:cat' }, input: 'registry-username', says: "holds a ':'" },
    { name: 'a pinned package that is not a name', rec: { 'pinned-packages': 'torch>=2' }, input: 'pinned-packages', says: 'not a package name' },
    { name: 'push that is not a boolean says auto too', rec: { push: 'maybe' }, input: 'push', says: 'true or false, or auto' },
    { name: 'parallel says auto too', rec: { parallel: 'many' }, input: 'parallel', says: 'from 1 to 16, or auto' },
    { name: 'an image with the Kelvin sign', rec: { image: 'ghcr.io/o/wor\u212Aer' }, input: 'image', says: 'U+212A' },
    { name: 'a worker token with a newline', rec: { 'worker-token': 'abcdefgh\nijk' }, input: 'worker-token', says: 'holds a newline' },
    { name: 'token-env DOCKER_HOST', rec: { 'token-env': 'DOCKER_HOST' }, input: 'token-env', says: 'DOCKER_*' },
  ])('$name', ({ rec, input, says }) => {
    expect(refusal(() => readInputs(inputSource({ ...IMAGE, ...rec })), input)).toContain(says);
  });

  test.each([
    { name: 'network host', rec: { network: 'host' }, pick: (i: ReturnType<typeof readInputs>) => i.network, want: 'host' },
    {
      name: 'target with dots and dashes',
      rec: { target: 'runtime-cu121.slim' },
      pick: (i: ReturnType<typeof readInputs>) => i.target,
      want: 'runtime-cu121.slim',
    },
    {
      name: 'python as a path',
      rec: { python: '/opt/venv/bin/python3.11' },
      pick: (i: ReturnType<typeof readInputs>) => i.python,
      want: '/opt/venv/bin/python3.11',
    },
    { name: 'push AUTO', rec: { push: 'AUTO' }, pick: (i: ReturnType<typeof readInputs>) => i.push, want: 'auto' },
    {
      name: 'a ping path with a query',
      rec: { 'ping-path': '/v1/ping?deep=1' },
      pick: (i: ReturnType<typeof readInputs>) => i.pingPath,
      want: '/v1/ping?deep=1',
    },
    {
      name: 'digests in merge mode',
      rec: { mode: 'merge', digests: `linux/amd64=${DIGEST}` },
      pick: (i: ReturnType<typeof readInputs>) => i.digests.length,
      want: 1,
    },
  ])('accepts $name', ({ rec, pick, want }) => {
    expect(pick(readInputs(inputSource({ ...IMAGE, ...rec })))).toEqual(want);
  });
});

describe('ml-image.yml: scalar types and positions', () => {
  const entry = (...lines: string[]) => ['images:', '  - image: ghcr.io/o/w', ...lines.map((l) => `    ${l}`), ''].join('\n');
  test.each([
    {
      name: 'torch-version 2.10 is a float',
      text: entry('torch-version: 2.10'),
      want: /^f\.yml:3: images\[0\]\.torch-version: is the number 2\.1 to YAML, not the version 2\.10: write versions in quotes \('2\.10'\)/,
    },
    { name: 'any unquoted number for a version', text: entry('torch-version: 2.2'), want: /^f\.yml:3: images\[0\]\.torch-version: is the number 2\.2/ },
    {
      name: 'an expect version',
      text: entry('expect:', '  linux/amd64: {cuda: 12.10}'),
      want: /^f\.yml:4: images\[0\]\.expect\.linux\/amd64\.cuda: is the number 12\.1/,
    },
    {
      name: 'a build arg that changes when read',
      text: entry('build-args: {PY: 3.10}'),
      want: /^f\.yml:3: images\[0\]\.build-args\.PY: YAML reads 3\.10 as the number 3\.1; quote it/,
    },
    {
      name: 'a port in exponent form',
      text: entry('ping: {port: 1e3}'),
      want: /^f\.yml:3: images\[0\]\.ping\.port: YAML reads 1e3 as the number 1000; write it in plain digits \(1000\)/,
    },
    { name: 'a port in octal', text: entry('ping: {port: 0o17}'), want: /images\[0\]\.ping\.port: YAML reads 0o17 as the number 15/ },
    { name: 'a fraction for a whole number', text: entry('sha-length: 7.5'), want: /images\[0\]\.sha-length: 7\.5 is not a whole number/ },
    {
      name: 'a boolean for a number',
      text: entry('ping: {startup-timeout: true}'),
      want: /images\[0\]\.ping\.startup-timeout: is the boolean true; startup-timeout takes a whole number/,
    },
    { name: 'a boolean for a string', text: entry('network: false'), want: /^f\.yml:3: images\[0\]\.network: is the boolean false; network takes a string/ },
    { name: 'a number for a boolean', text: entry('gpu: 2.5'), want: /images\[0\]\.gpu: is the number 2\.5; accepted: true or false/ },
    { name: 'no value', text: entry('target:'), want: /^f\.yml:3: images\[0\]\.target: has no value/ },
    { name: 'a newline in a one-line value', text: entry('target: "a\\nb"'), want: /images\[0\]\.target: must be one line/ },
    {
      name: 'a comma in a list item',
      text: entry('platforms: ["linux/amd64,linux/arm64"]'),
      want: /images\[0\]\.platforms\[0\]: 'linux\/amd64,linux\/arm64' holds a comma/,
    },
    { name: 'a key twice', text: entry('target: a', 'target: b'), want: /^f\.yml:4: images\[0\]\.target: is given twice \(first at line 3\)/ },
    {
      name: 'a key twice inside checks',
      text: entry('checks:', '  - name: a', '    name: b', '    exec: "true"'),
      want: /^f\.yml:5: images\[0\]\.checks\[0\]\.name: is given twice/,
    },
    { name: 'an alias without an anchor', text: entry('target: *nope'), want: /images\[0\]\.target: alias \*nope names no anchor/ },
    {
      name: 'too many aliases',
      text: ['defaults: {target: &a x}', `images: [{image: ghcr.io/o/w, tags: [${Array(101).fill('*a').join(', ')}]}]`].join('\n'),
      want: /more than 100 aliases/,
    },
    {
      name: 'aliases that expand without end',
      text: [
        'defaults:',
        '  checks:',
        '    - &a [x, x, x, x, x, x, x, x, x, x]',
        ...'bcdef'.split('').map((n, i) => `    - &${n} [${Array(10).fill(`*${'abcdef'[i]}`).join(', ')}]`),
        'images: [{image: ghcr.io/o/w}]',
      ].join('\n'),
      want: /aliases expand to more than 10000 values/,
    },
    { name: 'a build arg name that is not one', text: entry('build-args: {"A B": 1}'), want: /images\[0\]\.build-args\.A B: 'A B' is not a build arg name/ },
    {
      name: 'a variant holding a separator',
      text: entry('torch-variants: {linux/amd64: "cu121,linux/arm64=cu121"}'),
      want: /torch-variants\.linux\/amd64: 'cu121,linux\/arm64=cu121' is not a variant/,
    },
    {
      name: 'an expect value holding a space',
      text: entry('expect: {linux/amd64: {torch: "2.2.2 cuda=none"}}'),
      want: /expect\.linux\/amd64\.torch: '2\.2\.2 cuda=none' holds a space/,
    },
    { name: 'a suffix that is not a tag suffix', text: entry('suffix: "a b"'), want: /^f\.yml:3: images\[0\]\.suffix: 'a b' is not a tag suffix/ },
    { name: 'a name that is a boolean', text: entry('name: true'), want: /images\[0\]\.name: is the boolean true/ },
  ])('refuses $name', ({ text, want }) => {
    let err: unknown;
    try {
      parseConfig(text, 'f.yml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(want);
  });

  test.each([
    { name: 'a whole number for a number key', text: entry('sha-length: 8'), key: 'sha-length', want: '8' },
    { name: 'a string for a number key (auto)', text: entry('parallel: auto'), key: 'parallel', want: 'auto' },
    { name: 'a quoted version', text: entry("torch-version: '2.10'"), key: 'torch-version', want: '2.10' },
    { name: 'a version YAML reads as a string', text: entry('torch-version: 2.2.2'), key: 'torch-version', want: '2.2.2' },
    { name: 'a boolean for a boolean key', text: entry('gpu: true'), key: 'gpu', want: 'true' },
    { name: 'a number that reads as written in a build arg', text: entry('build-args: {WORKERS: 4}'), key: 'build-args', want: 'WORKERS=4' },
    { name: 'a boolean build arg as written', text: entry('build-args: {WITH_X: true}'), key: 'build-args', want: 'WITH_X=true' },
    { name: 'a number tag as written', text: entry('tags: [2024, v1]'), key: 'tags', want: '2024\nv1' },
    {
      name: 'a multi-line size budget',
      text: entry('size-budget: |', '  compressed=3GB', '  linux/arm64: compressed=2GB'),
      key: 'size-budget',
      want: 'compressed=3GB\nlinux/arm64: compressed=2GB\n',
    },
    { name: 'an alias', text: ['defaults:', '  image: &i ghcr.io/o/w', 'images:', '  - target: *i'].join('\n'), key: 'target', want: 'ghcr.io/o/w' },
  ])('accepts $name', ({ text, key, want }) => {
    expect(parseConfig(text, 'f.yml').entries[0].values[key]).toBe(want);
  });
});
