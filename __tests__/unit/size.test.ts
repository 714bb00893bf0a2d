import * as fs from 'fs';
import * as path from 'path';
import { InputError } from '../../src/errors';
import {
  alignHistory,
  budgetFor,
  checkSize,
  cleanInstruction,
  historyArgs,
  largestLayers,
  manifestSizes,
  parseConfigHistory,
  parseHistory,
  parseSizeBudget,
  platformName,
  sizeMarkdown,
  type HistoryEntry,
  type MeasuredImage,
  type PublishedSizes,
  type SizeBudget,
} from '../../src/verify/size';

const GB = 1e9;
const GiB = 1024 ** 3;

describe('parseSizeBudget: accepted', () => {
  test.each([
    { name: 'empty: no budget', raw: '', want: { all: {}, platforms: {} } },
    { name: 'blank lines only: no budget', raw: ' \n  \n', want: { all: {}, platforms: {} } },
    {
      name: 'all three limits for every platform',
      raw: 'compressed=3GB uncompressed=8GB growth=10%',
      want: {
        all: { compressed: { value: 3 * GB, text: '3GB' }, uncompressed: { value: 8 * GB, text: '8GB' }, growth: { value: 10, text: '10%' } },
        platforms: {},
      },
    },
    {
      name: 'units are case-insensitive',
      raw: 'compressed=3gb uncompressed=2Gib',
      want: { all: { compressed: { value: 3 * GB, text: '3gb' }, uncompressed: { value: 2 * GiB, text: '2Gib' } }, platforms: {} },
    },
    { name: 'a decimal with a 1024-based unit', raw: 'compressed=1.5GiB', want: { all: { compressed: { value: 1.5 * GiB, text: '1.5GiB' } }, platforms: {} } },
    {
      name: 'kB and KiB differ',
      raw: 'compressed=1kB uncompressed=1KiB',
      want: { all: { compressed: { value: 1000, text: '1kB' }, uncompressed: { value: 1024, text: '1KiB' } }, platforms: {} },
    },
    {
      name: 'MB and MiB',
      raw: 'compressed=500MB uncompressed=500MiB',
      want: { all: { compressed: { value: 500e6, text: '500MB' }, uncompressed: { value: 500 * 1024 ** 2, text: '500MiB' } }, platforms: {} },
    },
    { name: 'plain bytes', raw: 'compressed=123456789B', want: { all: { compressed: { value: 123456789, text: '123456789B' } }, platforms: {} } },
    {
      name: 'a space between number and unit',
      raw: 'compressed=1.5 GB growth=10 %',
      want: { all: { compressed: { value: 1.5 * GB, text: '1.5GB' }, growth: { value: 10, text: '10%' } }, platforms: {} },
    },
    { name: 'spaces around =', raw: 'compressed = 3GB', want: { all: { compressed: { value: 3 * GB, text: '3GB' } }, platforms: {} } },
    {
      name: 'comma separated pairs',
      raw: 'compressed=3GB, growth=2.5%',
      want: { all: { compressed: { value: 3 * GB, text: '3GB' }, growth: { value: 2.5, text: '2.5%' } }, platforms: {} },
    },
    { name: 'growth of 0%: no growth at all', raw: 'growth=0%', want: { all: { growth: { value: 0, text: '0%' } }, platforms: {} } },
    {
      name: 'one platform on its own line (block scalar)',
      raw: 'compressed=3GB growth=10%\nlinux/arm64: compressed=1.5GB\n',
      want: {
        all: { compressed: { value: 3 * GB, text: '3GB' }, growth: { value: 10, text: '10%' } },
        platforms: { 'linux/arm64': { compressed: { value: 1.5 * GB, text: '1.5GB' } } },
      },
    },
    {
      name: 'one YAML line: ; between scopes, no space after the platform colon',
      raw: 'compressed=3GB; linux/arm64:compressed=1.5GB uncompressed=4GB',
      want: {
        all: { compressed: { value: 3 * GB, text: '3GB' } },
        platforms: { 'linux/arm64': { compressed: { value: 1.5 * GB, text: '1.5GB' }, uncompressed: { value: 4 * GB, text: '4GB' } } },
      },
    },
    {
      name: 'a platform alias is the platform',
      raw: 'linux/arm64/v8: growth=5%',
      want: { all: {}, platforms: { 'linux/arm64': { growth: { value: 5, text: '5%' } } } },
    },
    {
      name: 'a platform on two lines with different keys',
      raw: 'linux/amd64: compressed=6GB\nlinux/amd64: growth=15%',
      want: { all: {}, platforms: { 'linux/amd64': { compressed: { value: 6 * GB, text: '6GB' }, growth: { value: 15, text: '15%' } } } },
    },
  ])('$name', ({ raw, want }) => {
    expect(parseSizeBudget(raw)).toEqual(want);
  });
});

describe('parseSizeBudget: refused, naming the input, the value and what is accepted', () => {
  test.each([
    {
      name: 'a size without a unit',
      raw: 'compressed=3',
      want: /'3' is not a size; accepted: a number and a unit: B, kB, MB, GB \(1000-based\) or KiB, MiB, GiB \(1024-based\)/,
    },
    { name: 'a unit not accepted (TB)', raw: 'compressed=3TB', want: /'3TB' is not a size; accepted:/ },
    { name: 'a unit misspelt', raw: 'compressed=3GBs', want: /'3GBs' is not a size/ },
    { name: 'a negative size', raw: 'compressed=-1GB', want: /'-1GB' is not a size/ },
    { name: 'a size of zero', raw: 'compressed=0GB', want: /'0GB' is not a size above zero/ },
    { name: 'an exponent', raw: 'uncompressed=1e9B', want: /'1e9B' is not a size/ },
    { name: 'a unit without a number', raw: 'compressed=GB', want: /'GB' is not a size/ },
    { name: 'a decimal comma', raw: 'compressed=1,5GB', want: /'1' is not a size/ },
    { name: 'growth without %', raw: 'growth=10', want: /'10' is not a growth; accepted: a percentage of zero or more, for example 10%/ },
    { name: 'negative growth', raw: 'growth=-5%', want: /'-5%' is not a growth/ },
    { name: 'growth as a size', raw: 'growth=1GB', want: /'1GB' is not a growth/ },
    { name: 'a doubled %', raw: 'growth=10%%', want: /'10%%' is not a growth/ },
    { name: 'an unknown key', raw: 'size=3GB', want: /'size' in 'size=3GB' is not a limit; accepted: compressed, uncompressed, growth/ },
    { name: 'a key given twice', raw: 'compressed=3GB compressed=4GB', want: /compressed is given twice for every platform/ },
    {
      name: 'a key given twice for a platform',
      raw: 'linux/amd64: compressed=1GB\nlinux/amd64: compressed=2GB',
      want: /compressed is given twice for linux\/amd64/,
    },
    { name: 'an unknown platform', raw: 'linux/s390x: compressed=1GB', want: /unknown platform 'linux\/s390x'; accepted: linux\/amd64, linux\/arm64/ },
    { name: 'a platform and no limit', raw: 'linux/arm64:', want: /'linux\/arm64:' names a platform and no limit; accepted: KEY=VALUE pairs/ },
    { name: 'not KEY=VALUE', raw: 'compressed 3GB', want: /'compressed' in 'compressed 3GB' is not KEY=VALUE; accepted:/ },
    { name: 'YAML mapping style', raw: 'compressed: 3GB', want: /'compressed:' in 'compressed: 3GB' is not KEY=VALUE/ },
    { name: 'a platform without its colon', raw: 'linux/amd64 compressed=3GB', want: /'linux\/amd64' in 'linux\/amd64 compressed=3GB' is not KEY=VALUE/ },
    { name: 'a key without a value', raw: 'compressed=3GB,growth', want: /'growth' in 'compressed=3GB,growth' is not KEY=VALUE/ },
  ])('$name', ({ raw, want }) => {
    let error: unknown;
    try {
      parseSizeBudget(raw);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).input).toBe('size-budget');
    expect((error as Error).message).toMatch(/^Input 'size-budget': /);
    expect((error as Error).message).toMatch(want);
  });

  test('the input is named as the caller says (a config entry, say)', () => {
    expect(() => parseSizeBudget('compressed=3', 'slim.size-budget')).toThrow(/^Input 'slim.size-budget': '3' is not a size/);
  });
});

describe('budgetFor', () => {
  const budget = parseSizeBudget('compressed=3GB growth=10%\nlinux/arm64: compressed=1.5GB uncompressed=4GB');
  test.each([
    { name: 'a platform with its own limits: they win key by key', platform: 'linux/arm64', want: { compressed: 1.5 * GB, growth: 10, uncompressed: 4 * GB } },
    { name: 'a platform without: the all-platform limits', platform: 'linux/amd64', want: { compressed: 3 * GB, growth: 10 } },
  ])('$name', ({ platform, want }) => {
    const got = budgetFor(budget, platform);
    expect(Object.fromEntries(Object.entries(got).map(([k, v]) => [k, v!.value]))).toEqual(want);
  });
});

describe('cleanInstruction', () => {
  test.each([
    { name: 'BuildKit RUN', raw: 'RUN /bin/sh -c rm /opt/random.bin # buildkit', want: 'RUN rm /opt/random.bin' },
    { name: 'BuildKit COPY', raw: 'COPY hello.txt blob.bin /srv/ # buildkit', want: 'COPY hello.txt blob.bin /srv/' },
    { name: 'BuildKit ADD', raw: 'ADD rootfs.tar / # buildkit', want: 'ADD rootfs.tar /' },
    { name: 'BuildKit metadata', raw: 'ENV MODEL_DIR=/models PYTHONUNBUFFERED=1', want: 'ENV MODEL_DIR=/models PYTHONUNBUFFERED=1' },
    {
      name: 'BuildKit RUN with build args: dropped',
      raw: 'RUN |2 TORCH_VERSION=2.2.2 TORCH_INDEX_URL=https://download.pytorch.org/whl/cu121 /bin/sh -c pip install torch==${TORCH_VERSION} # buildkit',
      want: 'RUN pip install torch==${TORCH_VERSION}',
    },
    { name: 'BuildKit RUN with a build arg holding a space', raw: 'RUN |1 MSG=a b /bin/sh -c echo "$MSG" # buildkit', want: 'RUN echo "$MSG"' },
    { name: 'BuildKit exec-form RUN with build args', raw: 'RUN |1 A=1 python3 -m pip install x # buildkit', want: 'RUN python3 -m pip install x' },
    { name: 'BuildKit exec-form RUN', raw: 'RUN python3 -m compileall /app # buildkit', want: 'RUN python3 -m compileall /app' },
    { name: 'BuildKit RUN under another SHELL', raw: 'RUN /bin/bash -o pipefail -c curl x | sh # buildkit', want: 'RUN /bin/bash -o pipefail -c curl x | sh' },
    { name: 'legacy metadata', raw: '/bin/sh -c #(nop)  ENV MODEL_DIR=/models PYTHONUNBUFFERED=1', want: 'ENV MODEL_DIR=/models PYTHONUNBUFFERED=1' },
    { name: 'legacy WORKDIR', raw: '/bin/sh -c #(nop) WORKDIR /srv/app', want: 'WORKDIR /srv/app' },
    { name: 'legacy COPY', raw: '/bin/sh -c #(nop) COPY multi:0707 in /srv/ ', want: 'COPY multi:0707 in /srv/' },
    { name: 'legacy RUN', raw: '/bin/sh -c apt-get update', want: 'RUN apt-get update' },
    {
      name: 'legacy RUN with build args',
      raw: '|1 TORCH_VERSION=2.2.2 /bin/sh -c echo "$TORCH_VERSION" > /srv/after.txt',
      want: 'RUN echo "$TORCH_VERSION" > /srv/after.txt',
    },
    {
      name: 'a multi-line RUN is one line',
      raw: 'RUN /bin/sh -c apt-get update \t&&   apt-get install -y\n curl # buildkit',
      want: 'RUN apt-get update && apt-get install -y curl',
    },
    { name: 'docker import', raw: 'Imported from -', want: 'Imported from -' },
    { name: 'nothing recorded', raw: '', want: '' },
  ])('$name', ({ raw, want }) => {
    expect(cleanInstruction(raw)).toBe(want);
  });
});

/** Recorded from this machine's engine (Docker 20.10.24); see each fixture's `source`. */
interface Recorded {
  source: string;
  history: string[];
  historyHuman: string[];
  diffIds: string[];
  configHistory: unknown[];
}
const recorded = (name: string): Recorded => JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/size', `${name}.json`), 'utf8'));
const BUILDKIT = recorded('buildkit');
const LEGACY = recorded('legacy');
const BASE = recorded('base');
const instructions = (r: Recorded, from: 'history' | 'historyHuman' | 'config') =>
  alignHistory(from === 'config' ? parseConfigHistory({ history: r.configHistory }) : parseHistory(r[from].join('\n')), r.diffIds).map((l) => l.instruction);

describe('parseHistory on recorded docker history output', () => {
  test('oldest first, instructions cleaned, exact sizes with --human=false', () => {
    expect(parseHistory(BUILDKIT.history.join('\n'))).toEqual<HistoryEntry[]>([
      { instruction: 'ADD rootfs.tar /', size: 230319197, buildkit: true },
      { instruction: 'CMD ["python3"]', size: 0, buildkit: true },
      { instruction: 'RUN head -c 1500000 /dev/urandom > /opt/random.bin && echo done', size: 1500000, buildkit: true },
      { instruction: 'COPY hello.txt blob.bin /srv/', size: 200006, buildkit: true },
      { instruction: 'ENV MODEL_DIR=/models PYTHONUNBUFFERED=1', size: 0, buildkit: true },
      { instruction: 'WORKDIR /srv/app', size: 0, buildkit: true },
      { instruction: 'WORKDIR /srv', size: 0, buildkit: true },
      { instruction: 'RUN rm /opt/random.bin', size: 0, buildkit: true },
      { instruction: 'LABEL org.example.test=size', size: 0, buildkit: true },
      { instruction: `CMD ["python3" "-c" "print('hi')"]`, size: 0, buildkit: true },
    ]);
  });

  test('human sizes (without --human=false) are read as Docker prints them, 1000-based and rounded', () => {
    expect(parseHistory(BUILDKIT.historyHuman.join('\n')).map((e) => e.size)).toEqual([230e6, 0, 1.5e6, 200e3, 0, 0, 0, 0, 0, 0]);
  });

  test('the legacy builder: no BuildKit comment, build args and #(nop) dropped', () => {
    const h = parseHistory(LEGACY.history.join('\n'));
    expect(h.map((e) => [e.instruction, e.size, e.buildkit])).toEqual([
      ['ADD rootfs.tar /', 230319197, true],
      ['CMD ["python3"]', 0, true],
      ['ARG TORCH_VERSION=2.2.2', 0, false],
      ['RUN head -c 1500000 /dev/urandom > /opt/random.bin && echo done', 1500000, false],
      ['COPY multi:070719ef339fb61c5b8cba2fedffe1df608dc0d538062668638dba9f9c8fe895 in /srv/', 200006, false],
      ['ENV MODEL_DIR=/models PYTHONUNBUFFERED=1', 0, false],
      ['WORKDIR /srv/app', 0, false],
      ['WORKDIR /srv', 0, false],
      ['RUN true', 0, false],
      ['RUN rm /opt/random.bin', 0, false],
      ['RUN echo "$TORCH_VERSION" > /srv/after.txt', 6, false],
      ['LABEL org.example.test=size', 0, false],
      [`CMD ["python3" "-c" "print('hi')"]`, 0, false],
    ]);
  });

  test.each([
    { name: 'not JSON', stdout: 'IMAGE CREATED SIZE', want: /not JSON: IMAGE CREATED SIZE/ },
    { name: 'a size that is not one', stdout: '{"CreatedBy":"RUN x","Size":"lots"}', want: /size 'lots' that is not one/ },
  ])('refused: $name', ({ stdout, want }) => {
    expect(() => parseHistory(stdout)).toThrow(want);
  });

  test('the argv asks for JSON lines with exact sizes', () => {
    expect(historyArgs('img:tag')).toEqual(['history', '--no-trunc', '--human=false', '--format', '{{json .}}', 'img:tag']);
  });
});

describe('alignHistory: each layer and the step that made it', () => {
  const BK_LAYERS = [
    'ADD rootfs.tar /',
    'RUN head -c 1500000 /dev/urandom > /opt/random.bin && echo done',
    'COPY hello.txt blob.bin /srv/',
    'WORKDIR /srv/app',
    'WORKDIR /srv',
    'RUN rm /opt/random.bin',
  ];
  const LEGACY_LAYERS = [
    'ADD rootfs.tar /',
    'RUN head -c 1500000 /dev/urandom > /opt/random.bin && echo done',
    'COPY multi:070719ef339fb61c5b8cba2fedffe1df608dc0d538062668638dba9f9c8fe895 in /srv/',
    'WORKDIR /srv/app',
    'RUN rm /opt/random.bin',
    'RUN echo "$TORCH_VERSION" > /srv/after.txt',
  ];
  test.each([
    // BuildKit keeps three layers of 0 bytes: a WORKDIR that made a directory, a WORKDIR of an
    // existing one (the empty tar, sha256:5f70bf18…), a RUN that only deleted. The undecided
    // WORKDIRs must both be layers to make up the count.
    { name: 'BuildKit, from docker history', fixture: BUILDKIT, from: 'history' as const, want: BK_LAYERS },
    { name: 'BuildKit, from docker history with human sizes', fixture: BUILDKIT, from: 'historyHuman' as const, want: BK_LAYERS },
    { name: 'BuildKit, from the config (exact)', fixture: BUILDKIT, from: 'config' as const, want: BK_LAYERS },
    // The legacy builder dropped `WORKDIR /srv` and `RUN true` (nothing changed) but kept
    // `WORKDIR /srv/app` and `RUN rm` at 0 bytes. docker history cannot tell which two of the four
    // made layers 4 and 5; the layers below and above them are certain.
    {
      name: 'legacy builder, from docker history: the two undecidable layers get no instruction',
      fixture: LEGACY,
      from: 'history' as const,
      want: [LEGACY_LAYERS[0], LEGACY_LAYERS[1], LEGACY_LAYERS[2], undefined, undefined, LEGACY_LAYERS[5]],
    },
    { name: 'legacy builder, from the config (exact)', fixture: LEGACY, from: 'config' as const, want: LEGACY_LAYERS },
    { name: 'the one-layer base image', fixture: BASE, from: 'history' as const, want: ['ADD rootfs.tar /'] },
  ])('$name', ({ fixture, from, want }) => {
    expect(instructions(fixture, from)).toEqual(want);
  });

  test('layers carry their diff IDs in order, and the history size where it is from docker history', () => {
    const got = alignHistory(parseHistory(BUILDKIT.history.join('\n')), BUILDKIT.diffIds);
    expect(got.map((l) => l.diffId)).toEqual(BUILDKIT.diffIds);
    expect(got.map((l) => l.size)).toEqual([230319197, 1500000, 200006, 0, 0, 0]);
    expect(alignHistory(parseConfigHistory({ history: BUILDKIT.configHistory }), BUILDKIT.diffIds).every((l) => l.size === undefined)).toBe(true);
  });

  const D = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
  const e = (instruction: string, size?: number, more: Partial<HistoryEntry> = {}): HistoryEntry => ({ instruction, size, buildkit: false, ...more });
  test.each([
    { name: 'no undecided step', entries: [e('ADD x /', 5), e('CMD ["a"]', 0), e('RUN y', 3)], layers: 2, want: ['ADD x /', 'RUN y'] },
    {
      name: 'undecided steps that made no layer (the sized ones make up the count)',
      entries: [e('ADD x /', 5), e('RUN true', 0), e('WORKDIR /app', 0), e('RUN y', 3)],
      layers: 2,
      want: ['ADD x /', 'RUN y'],
    },
    {
      name: 'undecided steps that all made layers',
      entries: [e('ADD x /', 5), e('RUN rm /a', 0), e('RUN y', 3)],
      layers: 3,
      want: ['ADD x /', 'RUN rm /a', 'RUN y'],
    },
    {
      name: 'one of two undecided: those between are unknown, a sized step between too',
      entries: [e('ADD x /', 5), e('RUN rm /a', 0), e('RUN z', 7), e('RUN true', 0), e('RUN y', 3)],
      layers: 4,
      want: ['ADD x /', undefined, undefined, 'RUN y'],
    },
    {
      name: 'a BuildKit RUN of 0 bytes is a layer',
      entries: [e('ADD x /', 5, { buildkit: true }), e('RUN rm /a', 0, { buildkit: true }), e('RUN y', 3, { buildkit: true })],
      layers: 3,
      want: ['ADD x /', 'RUN rm /a', 'RUN y'],
    },
    { name: 'more layers than steps can make: nothing is paired', entries: [e('ADD x /', 5), e('ENV A=b', 0)], layers: 2, want: [undefined, undefined] },
    { name: 'fewer layers than sized steps (a squashed image): nothing is paired', entries: [e('ADD x /', 5), e('RUN y', 3)], layers: 1, want: [undefined] },
    {
      name: 'config history: empty_layer decides, whatever the size says',
      entries: [e('ADD x /', undefined, { emptyLayer: false }), e('RUN true', undefined, { emptyLayer: true }), e('RUN y', undefined, { emptyLayer: false })],
      layers: 2,
      want: ['ADD x /', 'RUN y'],
    },
    { name: 'no history at all', entries: [], layers: 1, want: [undefined] },
  ])('$name', ({ entries, layers, want }) => {
    expect(
      alignHistory(
        entries,
        Array.from({ length: layers }, (_, i) => D(i + 1)),
      ).map((l) => l.instruction),
    ).toEqual(want);
  });
});

describe('largestLayers', () => {
  const layers = [
    { index: 1, compressed: 100, uncompressed: 300 },
    { index: 2, compressed: 500, uncompressed: 900 },
    { index: 3, compressed: 100, uncompressed: 1000 },
    { index: 4, compressed: 20 },
  ];
  test.each([
    { name: 'by compressed size, largest first, equal ones in image order', n: 3, by: 'compressed' as const, want: [2, 1, 3] },
    { name: 'by uncompressed size; unknown sizes last', n: 4, by: 'uncompressed' as const, want: [3, 2, 1, 4] },
    { name: 'more asked than there are', n: 10, by: 'compressed' as const, want: [2, 1, 3, 4] },
    { name: 'none asked', n: 0, by: 'compressed' as const, want: [] },
  ])('$name', ({ n, by, want }) => {
    expect(largestLayers(layers, n, by).map((l) => l.index)).toEqual(want);
  });
  test('the input is left as it was', () => {
    largestLayers(layers, 2);
    expect(layers.map((l) => l.index)).toEqual([1, 2, 3, 4]);
  });
});

describe('manifestSizes and platformName', () => {
  test('layers and config of a manifest', () => {
    expect(manifestSizes('sha256:m', { config: { size: 1500 }, layers: [{ size: 100 }, { size: 2000 }] })).toEqual({
      digest: 'sha256:m',
      compressed: 3600,
      config: 1500,
      layers: [100, 2000],
    });
  });
  test.each([
    { os: 'linux', arch: 'amd64', variant: undefined, want: 'linux/amd64' },
    { os: 'linux', arch: 'arm64', variant: 'v8', want: 'linux/arm64' },
    { os: 'linux', arch: 'arm', variant: 'v7', want: 'linux/arm/v7' },
  ])('$os/$arch $variant is $want', ({ os, arch, variant, want }) => {
    expect(platformName(os, arch, variant)).toBe(want);
  });
});

describe('checkSize', () => {
  const history = parseConfigHistory({ history: BUILDKIT.configHistory });
  const measured = (over: Partial<MeasuredImage> = {}): MeasuredImage => ({
    ref: 'ghcr.io/org/worker:amd64',
    id: 'sha256:img',
    platform: 'linux/amd64',
    store: 'classic',
    level: 6,
    layers: [
      { index: 1, diffId: BUILDKIT.diffIds[0], compressed: 2.0 * GB, digest: 'sha256:l1', uncompressed: 5.0 * GB },
      { index: 2, diffId: BUILDKIT.diffIds[1], compressed: 0.3 * GB, digest: 'sha256:l2', uncompressed: 0.4 * GB },
      { index: 3, diffId: BUILDKIT.diffIds[2], compressed: 0.1 * GB, digest: 'sha256:l3', uncompressed: 0.2 * GB },
      { index: 4, diffId: BUILDKIT.diffIds[3], compressed: 120, digest: 'sha256:l4', uncompressed: 1536 },
      { index: 5, diffId: BUILDKIT.diffIds[4], compressed: 32, digest: 'sha256:l5', uncompressed: 1024 },
      { index: 6, diffId: BUILDKIT.diffIds[5], compressed: 110, digest: 'sha256:l6', uncompressed: 1536 },
    ],
    config: 2000,
    compressed: 2.4 * GB,
    uncompressed: 5.6 * GB,
    history,
    seconds: 12.5,
    ...over,
  });
  const published = (compressed: number, platform = 'linux/amd64'): PublishedSizes => ({
    ref: 'ghcr.io/org/worker:latest',
    digest: 'sha256:list',
    platforms: { [platform]: { digest: 'sha256:old', compressed, config: 2000, layers: [compressed - 2000] } },
  });
  const budget = (raw: string): SizeBudget => parseSizeBudget(raw);

  test.each([
    { name: 'no budget: no finding', budget: '', published: undefined, want: [] },
    { name: 'under every limit', budget: 'compressed=3GB uncompressed=6GB growth=10%', published: published(2.3 * GB), want: [] },
    { name: 'exactly at the limit passes', budget: 'compressed=2.4GB', published: undefined, want: [] },
    {
      name: 'compressed over',
      budget: 'compressed=2GB',
      published: undefined,
      want: [{ check: 'compressed size', expected: 'at most 2GB', actual: '2.40 GB (2400000000 bytes)' }],
    },
    {
      name: 'uncompressed over (1024-based limit)',
      budget: 'uncompressed=5GiB',
      published: undefined,
      want: [{ check: 'uncompressed size', expected: 'at most 5GiB', actual: '5.60 GB (5600000000 bytes)' }],
    },
    {
      name: 'growth over the published image',
      budget: 'growth=10%',
      published: published(2.0 * GB),
      want: [{ check: 'size growth', expected: 'at most +10% over ghcr.io/org/worker:latest (2.00 GB)', actual: '+20.0% (2.40 GB)' }],
    },
    { name: 'growth within', budget: 'growth=20%', published: published(2.0 * GB), want: [] },
    { name: 'shrunk: no growth finding even at growth=0%', budget: 'growth=0%', published: published(3.0 * GB), want: [] },
    { name: 'a first release (no published image): growth is not checked', budget: 'growth=0%', published: undefined, want: [] },
    { name: 'the published list lacks this platform: growth is not checked', budget: 'growth=0%', published: published(1.0 * GB, 'linux/arm64'), want: [] },
    { name: 'a per-platform limit wins over the all-platform one', budget: 'compressed=1GB\nlinux/amd64: compressed=3GB', published: undefined, want: [] },
    { name: 'another platform`s limit does not apply', budget: 'linux/arm64: compressed=1GB', published: undefined, want: [] },
    {
      name: 'every limit over: every finding',
      budget: 'compressed=1GB uncompressed=1GB growth=1%',
      published: published(2.0 * GB),
      want: [
        { check: 'compressed size', expected: 'at most 1GB', actual: '2.40 GB (2400000000 bytes)' },
        { check: 'uncompressed size', expected: 'at most 1GB', actual: '5.60 GB (5600000000 bytes)' },
        { check: 'size growth', expected: 'at most +1% over ghcr.io/org/worker:latest (2.00 GB)', actual: '+20.0% (2.40 GB)' },
      ],
    },
  ])('$name', ({ budget: raw, published: pub, want }) => {
    const { findings, report } = checkSize(measured(), budget(raw), pub);
    expect(findings).toEqual(want);
    expect(report.passed).toBe(want.length === 0);
  });

  test('an uncompressed limit with a layer of unknown size (a stored zstd blob) fails rather than passes unchecked', () => {
    const m = measured({ store: 'containerd', uncompressed: undefined });
    expect(checkSize(m, budget('uncompressed=100GB'), undefined).findings).toEqual([
      { check: 'uncompressed size', expected: 'at most 100GB', actual: 'unknown: a stored layer is not gzip' },
    ]);
  });

  test('a tag naming a single image manifest is not compared (its platform is not known without its config)', () => {
    const single: PublishedSizes = {
      ref: 'r:latest',
      digest: 'sha256:one',
      platforms: {},
      single: { digest: 'sha256:one', compressed: 1, config: 1, layers: [] },
    };
    const { findings, report } = checkSize(measured(), budget('growth=0%'), single);
    expect(findings).toEqual([]);
    expect(report.growthPercent).toBeUndefined();
  });

  test('the report: totals, largest layers with their instructions, the published image and growth', () => {
    const { report } = checkSize(measured(), budget('compressed=3GB growth=10%'), published(2.0 * GB), 3);
    expect(report).toEqual({
      platform: 'linux/amd64',
      compressed: 2.4 * GB,
      uncompressed: 5.6 * GB,
      layers: 6,
      compressedBy: 'gzip',
      level: 6,
      largestLayers: [
        { index: 1, compressed: 2.0 * GB, uncompressed: 5.0 * GB, instruction: 'ADD rootfs.tar /' },
        { index: 2, compressed: 0.3 * GB, uncompressed: 0.4 * GB, instruction: 'RUN head -c 1500000 /dev/urandom > /opt/random.bin && echo done' },
        { index: 3, compressed: 0.1 * GB, uncompressed: 0.2 * GB, instruction: 'COPY hello.txt blob.bin /srv/' },
      ],
      published: { ref: 'ghcr.io/org/worker:latest', digest: 'sha256:old', compressed: 2.0 * GB },
      growthPercent: 20,
      budget: { compressed: { value: 3 * GB, text: '3GB' }, growth: { value: 10, text: '10%' } },
      passed: false,
      seconds: 12.5,
    });
  });

  test('the report of a containerd store image says its sizes are the stored blobs', () => {
    expect(checkSize(measured({ store: 'containerd' }), budget(''), undefined).report.compressedBy).toBe('stored');
  });

  test('growth is rounded to a tenth of a percent, and negative when the image shrank', () => {
    expect(checkSize(measured(), budget(''), published(2.7 * GB)).report.growthPercent).toBe(-11.1);
  });
});

describe('sizeMarkdown', () => {
  const report = (over: Record<string, unknown> = {}) => ({
    platform: 'linux/amd64',
    compressed: 2.4 * GB,
    uncompressed: 5.6 * GB,
    layers: 6,
    compressedBy: 'gzip' as const,
    level: 6,
    largestLayers: [
      {
        index: 5,
        compressed: 2.0 * GB,
        uncompressed: 5.0 * GB,
        instruction: `RUN pip install torch==2.2.2+cu121 --index-url https://download.pytorch.org/whl/cu121 && python -c 'import torch' | tee /log`,
      },
      { index: 2, compressed: 0.3 * GB, uncompressed: 0.4 * GB },
    ],
    published: { ref: 'ghcr.io/org/worker:latest', digest: 'sha256:old', compressed: 2.0 * GB },
    growthPercent: 20,
    budget: parseSizeBudget('compressed=3GB growth=10%').all,
    passed: false,
    seconds: 1,
    ...over,
  });

  test('a row per platform with human sizes, growth and budget; then the largest layers', () => {
    const md = sizeMarkdown([
      report(),
      report({
        platform: 'linux/arm64',
        compressed: 900e6,
        uncompressed: undefined,
        published: undefined,
        growthPercent: undefined,
        budget: {},
        passed: true,
        largestLayers: [],
      }),
    ]);
    expect(md).toBe(
      [
        '#### image size',
        '',
        '| platform | compressed | uncompressed | published | growth | budget | result |',
        '| --- | --- | --- | --- | --- | --- | --- |',
        '| linux/amd64 | 2.40 GB | 5.60 GB | 2.00 GB | +20.0% | compressed ≤ 3GB, growth ≤ +10% | over budget |',
        '| linux/arm64 | 900 MB | - | - | - | - | passed |',
        '',
        'largest layers of linux/amd64:',
        '',
        '| layer | compressed | uncompressed | instruction |',
        '| --- | --- | --- | --- |',
        '| 5/6 | 2.00 GB | 5.00 GB | `RUN pip install torch==2.2.2+cu121 --index-url https://download.pytorch.org/whl…` |',
        '| 2/6 | 300 MB | 400 MB | (not known) |',
        '',
      ].join('\n'),
    );
  });

  test('pipes and backticks in an instruction cannot break the table', () => {
    const md = sizeMarkdown([report({ largestLayers: [{ index: 1, compressed: 1, instruction: 'RUN a | b `c`' }] })]);
    expect(md).toContain("| `RUN a \\| b 'c'` |");
  });

  test('no report, no section', () => {
    expect(sizeMarkdown([])).toBe('');
  });
});
