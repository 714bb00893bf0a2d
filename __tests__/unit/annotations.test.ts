import { InputError } from '../../src/errors';
import { annotationsFor, checkAnnotationPlatforms, parseAnnotations, type Annotation } from '../../src/plan/annotations';

describe('parseAnnotations: build-push-action syntax', () => {
  test.each<{ name: string; raw: string; want: Annotation[] }>([
    {
      name: 'no type is manifest',
      raw: 'org.opencontainers.image.title=worker',
      want: [{ level: 'manifest', key: 'org.opencontainers.image.title', value: 'worker' }],
    },
    {
      name: 'index',
      raw: 'index:org.opencontainers.image.description=ASR worker',
      want: [{ level: 'index', key: 'org.opencontainers.image.description', value: 'ASR worker' }],
    },
    { name: 'manifest-descriptor', raw: 'manifest-descriptor:com.acme.tier=gpu', want: [{ level: 'manifest-descriptor', key: 'com.acme.tier', value: 'gpu' }] },
    {
      name: 'two types make one annotation each',
      raw: 'index,manifest:org.opencontainers.image.version=1.2.3',
      want: [
        { level: 'index', key: 'org.opencontainers.image.version', value: '1.2.3' },
        { level: 'manifest', key: 'org.opencontainers.image.version', value: '1.2.3' },
      ],
    },
    {
      name: 'a platform, alias normalised',
      raw: 'manifest[linux/arm64/v8]:com.acme.board=graviton',
      want: [{ level: 'manifest', platform: 'linux/arm64', key: 'com.acme.board', value: 'graviton' }],
    },
    { name: 'a value with =, : and commas', raw: 'manifest:com.acme.cmd=a=b, c:d', want: [{ level: 'manifest', key: 'com.acme.cmd', value: 'a=b, c:d' }] },
    { name: 'an empty value', raw: 'manifest:com.acme.empty=', want: [{ level: 'manifest', key: 'com.acme.empty', value: '' }] },
    { name: 'blank and CRLF lines', raw: '\r\n  a.b=1\r\n\n', want: [{ level: 'manifest', key: 'a.b', value: '1' }] },
  ])('$name', ({ raw, want }) => {
    expect(parseAnnotations(raw)).toEqual(want);
  });

  test.each([
    {
      name: 'index-descriptor, with why',
      raw: 'index-descriptor:a.b=1',
      says: ["Input 'annotations'", 'index-descriptor annotates the descriptor of the index', 'accepted: manifest, index, manifest-descriptor'],
    },
    { name: 'an unknown type', raw: 'manifests:a.b=1', says: ["'manifests' is not an annotation type"] },
    {
      name: 'index with a platform',
      raw: 'index[linux/amd64]:a.b=1',
      says: ['index annotations go on the one manifest list', 'manifest[linux/amd64]:KEY=VALUE'],
    },
    { name: 'an unknown platform', raw: 'manifest[linux/s390x]:a.b=1', says: ['linux/s390x'] },
    { name: 'no =', raw: 'manifest:a.b', says: ['is not KEY=VALUE', '[TYPE[,TYPE][[PLATFORM]]:]KEY=VALUE'] },
    { name: 'an empty key', raw: 'manifest:=1', says: ["'' in"] },
    { name: 'a key with a space', raw: 'manifest:a b=1', says: ["'a b' in", 'is not a key'] },
    { name: "the action's namespace", raw: 'io.ml-image-build.platform=x', says: ['io.ml-image-build.* namespace'] },
    { name: 'a key twice for one place', raw: 'a.b=1\nmanifest:a.b=2', says: ['a.b is given twice for manifest'] },
    { name: 'a value over the bound', raw: `a.b=${'x'.repeat(8 * 1024 + 1)}`, says: ['the value of a.b is 8193 bytes; accepted: at most 8192'] },
    {
      name: 'all together over the bound',
      raw: Array.from({ length: 9 }, (_, i) => `k${i}=${'x'.repeat(8000)}`).join('\n'),
      says: ['over 65536 bytes together'],
    },
  ])('refused: $name', ({ raw, says }) => {
    const parse = () => parseAnnotations(raw);
    expect(parse).toThrow(InputError);
    for (const s of says) expect(parse).toThrow(s);
  });

  test('the same key for another place, or another platform, is not a repeat', () => {
    expect(parseAnnotations('a.b=1\nindex:a.b=2\nmanifest[linux/arm64]:a.b=3')).toHaveLength(3);
  });
});

describe('annotationsFor', () => {
  const all = parseAnnotations('z.last=1\nmanifest[linux/arm64]:a.first=arm\na.first=all\nindex:i.k=v\nmanifest-descriptor[linux/amd64]:d.k=amd');
  test.each([
    { name: 'amd64 manifest: unqualified only, keys sorted', level: 'manifest' as const, platform: 'linux/amd64', want: { 'a.first': 'all', 'z.last': '1' } },
    { name: 'arm64 manifest: its own line wins', level: 'manifest' as const, platform: 'linux/arm64', want: { 'a.first': 'arm', 'z.last': '1' } },
    { name: 'the index', level: 'index' as const, platform: undefined, want: { 'i.k': 'v' } },
    { name: 'amd64 list entry', level: 'manifest-descriptor' as const, platform: 'linux/amd64', want: { 'd.k': 'amd' } },
    { name: 'arm64 list entry: none', level: 'manifest-descriptor' as const, platform: 'linux/arm64', want: {} },
  ])('$name', ({ level, platform, want }) => {
    const got = annotationsFor(all, level, platform);
    expect(got).toEqual(want);
    expect(Object.keys(got)).toEqual(Object.keys(want));
  });

  test('checkAnnotationPlatforms refuses a platform that is not built', () => {
    expect(() => checkAnnotationPlatforms(all, ['linux/amd64'])).toThrow(
      "Input 'annotations': manifest[linux/arm64]:a.first names a platform that is not built (linux/amd64)",
    );
    expect(() => checkAnnotationPlatforms(all, ['linux/amd64', 'linux/arm64'])).not.toThrow();
  });
});
