import { formatBytes, formatRate, Progress, progressLine } from '../../src/publish/progress';
import { pairLayers } from '../../src/publish/reuse';
import { mountSources } from '../../src/publish/publish';
import { createPlan } from '../../src/plan/plan';
import { FROZEN_NOW, inputs, runContext } from './fixtures';

describe('formatBytes', () => {
  test.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.00 kB'],
    [1_536_000, '1.54 MB'],
    [85_500_000, '85.5 MB'],
    [1_070_000_000, '1.07 GB'],
    [123_456_789_012, '123 GB'],
  ])('%i -> %s', (n, want) => {
    expect(formatBytes(n)).toBe(want);
  });
  test('rate', () => {
    expect(formatRate(100_000_000, 2)).toBe('50.0 MB/s');
    expect(formatRate(1, 0)).toBe('-');
  });
});

describe('progress lines', () => {
  test('a layer with a known size', () => {
    expect(progressLine({ label: 'linux/amd64 layer 2/5', read: 412_000_000, total: 1_070_000_000, sent: 203_500_000, seconds: 10 })).toBe(
      '  linux/amd64 layer 2/5: 412 MB of 1.07 GB (38%) read, 204 MB sent, 20.4 MB/s',
    );
  });

  test('every active task is printed at each tick, finished ones no more', () => {
    let t = 0;
    const lines: string[] = [];
    const p = new Progress(
      (s) => lines.push(s),
      0,
      () => t,
    );
    const a = p.start('layer 1/2', 100);
    const b = p.start('layer 2/2', 200);
    t = 2000;
    a.read = 50;
    a.sent = 20;
    p.tick();
    expect(lines).toEqual(['  layer 1/2: 50 B of 100 B (50%) read, 20 B sent, 10 B/s', '  layer 2/2: 0 B of 200 B (0%) read, 0 B sent, 0 B/s']);
    a.end();
    lines.length = 0;
    p.tick();
    expect(lines).toEqual(['  layer 2/2: 0 B of 200 B (0%) read, 0 B sent, 0 B/s']);
    b.end();
    p.stop();
  });
});

describe('pairLayers', () => {
  const L = (c: string, size = 10) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: `sha256:${c.repeat(64)}`, size });
  const D = (c: string) => `sha256:${c.repeat(64)}`;
  test.each([
    {
      name: 'layers pair with diff IDs in order',
      manifest: { layers: [L('1'), L('2')] },
      config: { rootfs: { diff_ids: [D('a'), D('b')] } },
      want: [
        { diffId: D('a'), desc: L('1') },
        { diffId: D('b'), desc: L('2') },
      ],
    },
    { name: 'counts differ: nothing learnt', manifest: { layers: [L('1')] }, config: { rootfs: { diff_ids: [D('a'), D('b')] } }, want: undefined },
    { name: 'no layers', manifest: {}, config: { rootfs: { diff_ids: [] } }, want: undefined },
    { name: 'no rootfs', manifest: { layers: [L('1')] }, config: {}, want: undefined },
  ])('$name', ({ manifest, config, want }) => {
    expect(pairLayers(manifest, config)).toEqual(want);
  });
});

describe('mountSources', () => {
  const plan = (image: string, name = 'default') => ({ ...createPlan(inputs({ image }), runContext(), FROZEN_NOW), name });
  test.each([
    { name: 'mount-from in the same registry', image: 'ghcr.io/acme/worker', others: [], mountFrom: ['ghcr.io/acme/base:latest'], want: ['acme/base'] },
    { name: 'another registry is no source', image: 'ghcr.io/acme/worker', others: [], mountFrom: ['docker.io/library/python:3.11'], want: [] },
    {
      name: "the run's other images of the registry",
      image: 'ghcr.io/acme/worker',
      others: ['ghcr.io/acme/worker-slim', 'quay.io/acme/x'],
      mountFrom: [],
      want: ['acme/worker-slim'],
    },
    {
      name: 'itself is no source, duplicates once',
      image: 'ghcr.io/acme/worker',
      others: ['ghcr.io/acme/worker', 'ghcr.io/acme/base'],
      mountFrom: ['ghcr.io/acme/base@sha256:' + 'a'.repeat(64)],
      want: ['acme/base'],
    },
  ])('$name', ({ image, others, mountFrom, want }) => {
    const p = plan(image);
    expect(mountSources(p, [p, ...others.map((o, i) => plan(o, `o${i}`))], mountFrom)).toEqual(want);
  });
});
