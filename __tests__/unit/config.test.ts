import * as fs from 'fs';
import * as path from 'path';
import { checksInputOf, ConfigError, lineOf, parseConfig } from '../../src/config';
import { parseChecks } from '../../src/verify/checks';

const FIXTURES = path.join(__dirname, '../fixtures/config');
const twoVariants = fs.readFileSync(path.join(FIXTURES, 'two-variants.yml'), 'utf8');

describe('parseConfig: a two-variant file', () => {
  const config = parseConfig(twoVariants, 'ml-image.yml');

  test.each([
    { name: 'entries in file order', got: () => config.entries.map((e) => e.name), want: ['full', 'slim'] },
    { name: "explicit empty suffix kept, others get '-name'", got: () => config.entries.map((e) => e.suffix), want: ['', '-slim'] },
    { name: 'defaults fill what an entry leaves out', got: () => config.entries[1].values.image, want: 'ghcr.io/acme/worker' },
    {
      name: 'ping keys become ping-* inputs',
      got: () => [config.entries[0].values['ping-port'], config.entries[0].values['startup-timeout']],
      want: ['8477', '180'],
    },
    { name: 'variant map becomes PLATFORM=VARIANT', got: () => config.entries[0].values['torch-variants'], want: 'linux/amd64=cu121,linux/arm64=cpu' },
    { name: 'flow-style map too', got: () => config.entries[1].values['torch-variants'], want: 'linux/amd64=cpu,linux/arm64=cpu' },
    {
      name: 'build args: shared and per platform',
      got: () => config.entries[0].values['build-args'],
      want: 'WITH_DIARIZATION=1\nlinux/amd64:BASE_IMAGE=nvidia/cuda:12.1.1-runtime-ubuntu22.04',
    },
    { name: 'platform list joined', got: () => config.entries[1].values.platforms, want: 'linux/amd64\nlinux/arm64' },
    { name: 'expect map, null cuda is none', got: () => config.entries[1].values.expect, want: 'linux/amd64: torch=2.2.2+cpu cuda=none' },
    { name: 'line of an entry key', got: () => config.entries[1].lines.target, want: 22 },
    { name: 'line of a default used by an entry', got: () => config.entries[1].lines['torch-version'], want: 6 },
    { name: 'line of a ping default', got: () => config.entries[0].lines['startup-timeout'], want: 9 },
  ])('$name', ({ got, want }) => {
    expect(got()).toEqual(want);
  });
});

describe('parseConfig: refusals name file, line and key', () => {
  test.each([
    { name: 'YAML syntax error', text: 'images:\n  - name: a\n   bad: [\n', want: /^ml-image\.yml:\d+: \(syntax\): / },
    {
      name: 'unknown top-level key',
      text: 'images: [{image: x}]\nimagez: []\n',
      want: /^ml-image\.yml:2: imagez: unknown top-level key; accepted: version, defaults, images$/,
    },
    {
      name: 'unknown key in an image',
      text: 'images:\n  - name: a\n    image: x\n  - name: b\n    torchversion: 2.2.2\n',
      want: /^ml-image\.yml:5: images\[1\]\.torchversion: unknown key; accepted: name, suffix, image/,
    },
    {
      name: 'wrong type for platforms',
      text: 'images:\n  - image: x\n    platforms: {a: b}\n',
      want: /^ml-image\.yml:3: images\[0\]\.platforms: must be a list of strings$/,
    },
    {
      name: 'unknown ping key',
      text: 'images:\n  - image: x\n    ping:\n      porte: 1\n',
      want: /^ml-image\.yml:4: images\[0\]\.ping\.porte: unknown key; accepted: port, path, startup-timeout, token-env$/,
    },
    {
      name: 'unknown expect key',
      text: 'images:\n  - image: x\n    expect:\n      linux/arm64:\n        torchvision: 1\n',
      want: /^ml-image\.yml:5: images\[0\]\.expect\.linux\/arm64\.torchvision: unknown key/,
    },
    { name: 'several images without names', text: 'images:\n  - image: x\n  - image: y\n', want: /^ml-image\.yml:2: images\[0\]: needs a name/ },
    {
      name: 'duplicate names',
      text: 'images:\n  - name: a\n    image: x\n  - name: a\n    image: y\n',
      want: /^ml-image\.yml:4: images\[1\]\.name: 'a' is used twice$/,
    },
    { name: 'empty images', text: 'images: []\n', want: /^ml-image\.yml:1: images: must be a non-empty list/ },
    { name: 'not a map', text: '- a\n- b\n', want: /^ml-image\.yml: \(top level\): the file must be a map/ },
    { name: 'unsupported version', text: 'version: 2\nimages: [{image: x}]\n', want: /^ml-image\.yml:1: version: unsupported version 2; accepted: 1$/ },
    {
      name: 'checks that are not a list',
      text: 'images:\n  - image: x\n    checks: {name: a}\n',
      want: /^ml-image\.yml:3: images\[0\]\.checks: must be a list of checks/,
    },
  ])('$name', ({ text, want }) => {
    let err: unknown;
    try {
      parseConfig(text, 'ml-image.yml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(want);
  });
});

describe('lineOf', () => {
  const text = 'a:\n  b:\n    - x: 1\n    - x: 2\n      y: 3\n  c: 4\nd: 5\n';
  test.each([
    { name: 'top-level key', path: ['d'], want: 7 },
    { name: 'nested key', path: ['a', 'c'], want: 6 },
    { name: 'list item', path: ['a', 'b', 1], want: 4 },
    { name: 'key inside a list item', path: ['a', 'b', 1, 'y'], want: 5 },
    { name: 'missing key falls back to the parent', path: ['a', 'zzz'], want: 1 },
    { name: 'nothing found', path: ['q'], want: undefined },
  ])('$name', ({ path: p, want }) => {
    expect(lineOf(text, p)).toBe(want);
  });
});

describe('parseConfig: checks', () => {
  const text = [
    'defaults:',
    '  checks:',
    '    - name: offline',
    '      exec: test "$HF_HUB_OFFLINE" = 1',
    'images:',
    '  - name: full',
    '    image: x',
    '    checks:',
    '      - name: whisper',
    '        exec: [python3, -c, "import whisper", 1.10]',
    '        expect: {stdout: \'^large-v3\\.pt$\', json: {"a.b[0]": "true"}}',
    '        periodSeconds: 5',
    '  - name: slim',
    '    image: x',
    '    checks: |',
    '      - name: ping',
    '        http: {path: /v1/ping}',
    '',
  ].join('\n');
  const config = parseConfig(text, 'ml-image.yml');
  const [full, slim] = config.entries.map((e) => parseChecks(e.values.checks, { input: 'checks' }));

  test.each([
    { name: "an image's own list replaces the defaults'", got: () => full.map((c) => c.name), want: ['whisper'] },
    {
      name: 'a list comes through as the same checks (js-yaml has read an unquoted 1.10 as 1.1 by then)',
      got: () => full[0],
      want: expect.objectContaining({ argv: ['python3', '-c', 'import whisper', '1.1'], periodSeconds: 5 }),
    },
    {
      name: 'regex and JSON value types survive',
      got: () => full[0].kind === 'exec' && [full[0].expect[0].stdout!.source, full[0].expect[0].json[0].value],
      want: ['^large-v3\\.pt$', 'true'],
    },
    { name: 'YAML text is taken as is', got: () => slim.map((c) => c.name), want: ['ping'] },
    { name: 'line of the checks key, for errors the input parser finds', got: () => config.entries[0].lines.checks, want: 8 },
  ])('$name', ({ got, want }) => {
    expect(got()).toEqual(want);
  });

  test.each([
    { name: 'a list', v: [{ name: 'a', exec: 'true' }], want: '- name: a\n  exec: "true"\n' },
    { name: 'an empty list is no checks', v: [], want: '' },
    { name: 'text', v: '- name: a\n', want: '- name: a\n' },
    { name: 'a map is refused', v: { name: 'a' }, want: undefined },
  ])('checksInputOf: $name', ({ v, want }) => {
    expect(checksInputOf(v)).toBe(want);
  });
});
