import * as fs from 'fs';
import * as path from 'path';
import { chainIds, identifyV1Layer } from '../../src/publish/local-image';
import { classifyEntry } from '../../src/publish/save-reader';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const hex = (c: string) => c.repeat(64);

describe('classifyEntry', () => {
  const diffIds = new Set([D('a'), D('b')]);
  test.each([
    { name: 'legacy layer json', entry: `${hex('1')}/json`, type: 'file', want: { kind: 'v1-json', dir: hex('1') } },
    { name: 'legacy layer tar', entry: `${hex('1')}/layer.tar`, type: 'file', want: { kind: 'v1-layer', dir: hex('1') } },
    { name: 'legacy layer link to its first copy', entry: `${hex('2')}/layer.tar`, type: 'symlink', want: { kind: 'v1-layer', dir: hex('2') } },
    { name: 'legacy VERSION', entry: `${hex('1')}/VERSION`, type: 'file', want: { kind: 'skip' } },
    { name: 'legacy directory', entry: `${hex('1')}/`, type: 'directory', want: { kind: 'skip' } },
    { name: 'legacy config', entry: `${hex('c')}.json`, type: 'file', want: { kind: 'file', name: `${hex('c')}.json` } },
    {
      name: 'OCI blob named by a diff ID: an uncompressed layer (classic store, Docker 25+)',
      entry: `blobs/sha256/${hex('a')}`,
      type: 'file',
      want: { kind: 'layer', diffId: D('a') },
    },
    {
      name: 'any other OCI blob (config, manifest, compressed layer)',
      entry: `blobs/sha256/${hex('f')}`,
      type: 'file',
      want: { kind: 'blob', digest: D('f') },
    },
    { name: 'leading ./ is ignored', entry: `./blobs/sha256/${hex('b')}`, type: 'file', want: { kind: 'layer', diffId: D('b') } },
    { name: 'manifest.json', entry: 'manifest.json', type: 'file', want: { kind: 'file', name: 'manifest.json' } },
    { name: 'index.json', entry: 'index.json', type: 'file', want: { kind: 'file', name: 'index.json' } },
    { name: 'oci-layout', entry: 'oci-layout', type: 'file', want: { kind: 'file', name: 'oci-layout' } },
    { name: 'blobs directory', entry: 'blobs/sha256/', type: 'directory', want: { kind: 'skip' } },
    { name: 'an unknown nested file', entry: 'foo/bar', type: 'file', want: { kind: 'skip' } },
  ])('$name', ({ entry, type, want }) => {
    expect(classifyEntry(entry, type, diffIds)).toEqual(want);
  });
});

describe('chainIds', () => {
  test('the first chain ID is the first diff ID; the next hashes "parent diff"', () => {
    const [c0, c1] = chainIds([D('a'), D('b')]);
    expect(c0).toBe(D('a'));
    expect(c1).toBe(
      `sha256:${require('crypto')
        .createHash('sha256')
        .update(`${D('a')} ${D('b')}`)
        .digest('hex')}`,
    );
  });
  test('empty image', () => {
    expect(chainIds([])).toEqual([]);
  });
});

describe('identifyV1Layer against a real legacy docker save', () => {
  // Recorded from Docker 20.10 (see the fixture's source): the top layer's json carries the image
  // config, with a label that Go escapes (<b>&), and `os`; the lower ones do not.
  const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/docker-save/legacy-v1-layers.json'), 'utf8')) as {
    diffIds: string[];
    layers: Array<{ dir: string; json: string }>;
  };
  const chains = chainIds(fixture.diffIds);

  test.each(fixture.layers.map((l, i) => ({ i, json: l.json })))('layer directory $i is told apart as layer $i', ({ i, json }) => {
    expect(identifyV1Layer(json, chains)).toBe(i);
  });

  test('the layer order does not matter (directories come in name order)', () => {
    const shuffled = [...chains].reverse();
    expect(identifyV1Layer(fixture.layers[0].json, shuffled)).toBe(chains.length - 1);
  });

  test.each([
    { name: 'another image: no chain ID fits', json: () => fixture.layers[1].json, chains: () => chainIds([D('e'), D('f')]) },
    {
      name: 'a tampered json (id no longer matches)',
      json: () => fixture.layers[1].json.replace('"os":"linux"', '"os":"windows"').replace('1970', '1971'),
      chains: () => chains,
    },
    { name: 'not JSON', json: () => 'not json', chains: () => chains },
    { name: 'JSON without id', json: () => '{"created":"x"}', chains: () => chains },
  ])('unknown: $name', ({ json, chains: c }) => {
    expect(identifyV1Layer(json(), c())).toBeUndefined();
  });
});
