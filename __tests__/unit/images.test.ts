import { ConfigError } from '../../src/config';
import { InputError } from '../../src/errors';
import { parseDigests, readImages } from '../../src/inputs';
import { parseAnnotations } from '../../src/plan/annotations';
import { parseLabels } from '../../src/plan/labels';
import { createPlan, planOutputs } from '../../src/plan/plan';
import { planMarkdown } from '../../src/report/plan-table';
import { FROZEN_NOW, inputs, inputSource, runContext } from './fixtures';

const CONFIG = [
  'defaults:', //                                 1
  '  image: ghcr.io/acme/worker', //              2
  '  torch-version: 2.2.2', //                    3
  'images:', //                                   4
  '  - name: full', //                            5
  '    platforms: [linux/amd64, linux/arm64]', // 6
  '  - name: slim', //                            7
  '    torch-variants: {linux/amd64: cpu, linux/arm64: cpu}', // 8
  '    ping:', //                                 9
  '      startup-timeout: soon', //              10
  '',
].join('\n');

const files = (text: string) => (p: string) => {
  if (p !== 'ml-image.yml') throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  return text;
};

describe('readImages', () => {
  test('without config: one image from the inputs', () => {
    const got = readImages(inputSource({ image: 'ghcr.io/a/b' }), files(''));
    expect(got.map((g) => [g.name, g.suffix, g.inputs.image])).toEqual([['default', '', 'ghcr.io/a/b']]);
  });

  test.each([
    {
      name: 'a value refused by the input parser is reported at its file line and key',
      rec: { config: 'ml-image.yml' },
      want: /^ml-image\.yml:10: images\[1\]\.startup-timeout: 'soon' is not a whole number from 1 to 86400$/,
      type: ConfigError,
    },
    {
      name: 'an input that is set wins over the file (and its own errors name the input)',
      rec: { config: 'ml-image.yml', 'startup-timeout': '30', 'torch-version': 'latest' },
      want: /^Input 'torch-version': 'latest' is not an exact release/,
      type: InputError,
    },
    {
      name: 'select names an image the file lacks',
      rec: { config: 'ml-image.yml', select: 'full,tiny' },
      want: /^Input 'select': 'tiny' is not an image of ml-image\.yml; its images: full, slim$/,
      type: InputError,
    },
    {
      name: 'select without a config',
      rec: { image: 'ghcr.io/a/b', select: 'full' },
      want: /^Input 'select': picks entries of a config file, and no config is given$/,
      type: InputError,
    },
    {
      name: 'a missing file names the config input',
      rec: { config: 'nope.yml' },
      want: /^Input 'config': cannot read 'nope\.yml' \(ENOENT\)$/,
      type: InputError,
    },
  ])('$name', ({ rec, want, type }) => {
    const read = () => readImages(inputSource(rec), files(CONFIG));
    expect(read).toThrow(type);
    expect(read).toThrow(want);
  });

  test('select keeps only the named images', () => {
    const got = readImages(inputSource({ config: 'ml-image.yml', select: 'slim', 'startup-timeout': '30' }), files(CONFIG));
    expect(got.map((g) => [g.name, g.suffix])).toEqual([['slim', '-slim']]);
  });

  test('inputs that are set override every entry; the file fills the rest', () => {
    const got = readImages(inputSource({ config: 'ml-image.yml', 'startup-timeout': '30', image: 'ghcr.io/acme/other' }), files(CONFIG));
    expect(got.map((g) => [g.name, g.suffix, g.inputs.image, g.inputs.startupTimeout, g.inputs.torchVariants['linux/amd64']])).toEqual([
      ['full', '-full', 'ghcr.io/acme/other', 30, 'cu121'],
      ['slim', '-slim', 'ghcr.io/acme/other', 30, 'cpu'],
    ]);
  });
});

describe('parseDigests', () => {
  const d = `sha256:${'a1'.repeat(32)}`;
  test.each([
    {
      name: 'bare digests',
      raw: `linux/amd64=${d}\nlinux/arm64=${d}`,
      want: [
        { platform: 'linux/amd64', digest: d },
        { platform: 'linux/arm64', digest: d },
      ],
    },
    { name: 'with the image', raw: `linux/arm64=ghcr.io/o/w@${d}`, want: [{ platform: 'linux/arm64', digest: d, image: 'ghcr.io/o/w' }] },
  ])('$name', ({ raw, want }) => expect(parseDigests(raw)).toEqual(want));

  test.each([
    { name: 'short digest', raw: 'linux/amd64=sha256:abc' },
    { name: 'no platform', raw: d },
    { name: 'unknown platform', raw: `linux/s390x=${d}` },
  ])('refuses $name naming the input', ({ raw }) => {
    expect(() => parseDigests(raw)).toThrow(/^Input 'digests': /);
  });
});

describe('plan outputs and the dry-run table', () => {
  const [full, slim] = readImages(inputSource({ config: 'ml-image.yml', 'startup-timeout': '30' }), files(CONFIG)).map((img) =>
    createPlan(img.inputs, runContext({ ref: 'refs/heads/main' }), FROZEN_NOW, img),
  );

  test('matrix has one row per image and platform', () => {
    expect(planOutputs([full, slim]).push).toBe('true');
    expect(JSON.parse(planOutputs([full, slim]).matrix)).toEqual({
      include: [
        { image: 'full', platform: 'linux/amd64', arch: 'amd64' },
        { image: 'full', platform: 'linux/arm64', arch: 'arm64' },
        { image: 'slim', platform: 'linux/amd64', arch: 'amd64' },
        { image: 'slim', platform: 'linux/arm64', arch: 'arm64' },
      ],
    });
  });

  test('plan output carries tags with the variant suffix and expectations', () => {
    const plan = JSON.parse(planOutputs([full, slim]).plan);
    expect(plan.map((p: { name: string; tags: string[] }) => [p.name, p.tags])).toEqual([
      ['full', ['0123456-full', 'latest-full']],
      ['slim', ['0123456-slim', 'latest-slim']],
    ]);
    expect(plan[1].platforms[0].expect).toEqual({ torch: '2.2.2+cpu', torchaudio: '2.2.2+cpu', cuda: null });
  });

  test('the table has a section per image, a row per platform and a build-arg row per arg', () => {
    const md = planMarkdown([full, slim]);
    expect(md).toContain('### full: ghcr.io/acme/worker');
    expect(md).toContain('### slim: ghcr.io/acme/worker');
    expect(md).toContain('| linux/amd64 | cpu | 2.2.2+cpu | 2.2.2+cpu | none |');
    expect(md).toContain('| TORCH_INDEX_URL | `https://download.pytorch.org/whl/cu121` | `https://download.pytorch.org/whl/cpu` |');
  });
});

describe('plan output and dry-run table: final labels and annotations', () => {
  const plan = createPlan(
    inputs({
      labels: parseLabels('org.opencontainers.image.title=Speech | worker\ncom.acme.team=speech'),
      annotations: parseAnnotations('index:org.opencontainers.image.description=ASR\nmanifest[linux/arm64]:com.acme.board=graviton'),
    }),
    runContext({ ref: 'refs/heads/main' }),
    FROZEN_NOW,
  );
  const out = JSON.parse(planOutputs([plan]).plan)[0];
  const md = planMarkdown([plan]);

  test.each([
    { name: "plan output: the user's label merged in", pick: () => out.labels['org.opencontainers.image.title'], want: 'Speech | worker' },
    { name: 'plan output: the torch label stands', pick: () => out.labels['io.ml-image-build.torch.version'], want: '2.2.2' },
    {
      name: 'plan output: the annotations with where they go',
      pick: () => out.annotations,
      want: [
        { level: 'index', key: 'org.opencontainers.image.description', value: 'ASR' },
        { level: 'manifest', platform: 'linux/arm64', key: 'com.acme.board', value: 'graviton' },
      ],
    },
    { name: 'table: a label row, | escaped', pick: () => md.includes('| org.opencontainers.image.title | `Speech \\| worker` |'), want: true },
    { name: 'table: the user key', pick: () => md.includes('| com.acme.team | `speech` |'), want: true },
    { name: 'table: an annotation row with its place', pick: () => md.includes('| com.acme.board | manifest[linux/arm64] | `graviton` |'), want: true },
  ])('$name', ({ pick, want }) => {
    expect(pick()).toEqual(want);
  });

  test('no annotation table when there are none', () => {
    expect(planMarkdown([createPlan(inputs(), runContext(), FROZEN_NOW)])).not.toContain('| annotation |');
  });
});
