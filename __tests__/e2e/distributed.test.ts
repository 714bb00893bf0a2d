import * as fs from 'fs';
import * as path from 'path';
import { leftoverContainers, runDist, type ActionRun } from './support/action';
import { ROOT, workspaceTempDir } from './support/env';
import { pullBack } from './support/pullback';
import { LOCAL_BASE_ARGS, Registry, WheelIndex } from './support/services';

// The scale-out pattern: one process per platform (as two runners would run it) builds, verifies
// and pushes by digest without any tag; a merge step checks the digests and tags one manifest list.
jest.setTimeout(30 * 60 * 1000);

const registry = new Registry();
const index = new WheelIndex();
const repository = 'example/distributed';
const digests: Record<string, string> = {};
let platformRuns: Record<string, ActionRun>;

const common = () => ({
  image: `${registry.host}/${repository}`,
  'registry-username': registry.user,
  'registry-password': registry.password,
});

beforeAll(async () => {
  await Promise.all([registry.start(), index.start()]);
  const one = (platform: string) =>
    runDist({
      ...common(),
      mode: 'platform',
      platforms: platform,
      context: 'examples/worker',
      'torch-index-url': index.url,
      network: 'host',
      'build-args': LOCAL_BASE_ARGS,
    });
  const [amd64, arm64] = await Promise.all([one('linux/amd64'), one('linux/arm64')]);
  platformRuns = { 'linux/amd64': amd64, 'linux/arm64': arm64 };
  for (const [p, r] of Object.entries(platformRuns)) {
    console.log(`platform job ${p}: ${r.seconds.toFixed(1)}s, exit ${r.code}, digest ${r.outputs.digest}`);
    digests[p] = r.outputs.digest;
  }
});

afterAll(() => {
  registry.stop();
  index.stop();
});

afterEach(() => expect(leftoverContainers()).toEqual([]));

test('each platform job verifies and pushes by digest, and moves no tag', async () => {
  for (const r of Object.values(platformRuns)) {
    if (r.code !== 0) console.log(r.output.slice(-3000));
    expect(r.code).toBe(0);
    expect(r.outputs.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  }
  expect(digests['linux/amd64']).not.toBe(digests['linux/arm64']);
  expect(await registry.imageTags(repository)).toEqual([]);
  // Each platform job attached its verification report: the only tags are the referrers fallback's.
  expect((await registry.referrerTags(repository)).sort()).toEqual(
    Object.values(digests)
      .map((d) => d.replace(':', '-'))
      .sort(),
  );
  for (const [p, d] of Object.entries(digests)) {
    const m = await registry.manifest(repository, d);
    const config = await registry.blob(repository, m.json.config.digest);
    expect(`${config.os}/${config.architecture}`).toBe(p);
  }
});

const merge = (lines: string[]) => runDist({ ...common(), mode: 'merge', digests: lines.join('\n') });

test.each([
  {
    name: 'a digest given for the wrong platform',
    lines: () => [`linux/amd64=${digests['linux/amd64']}`, `linux/arm64=${digests['linux/amd64']}`],
    error: /linux\/arm64: sha256:[0-9a-f]{64} is an image for linux\/amd64, not linux\/arm64; no tag was moved/,
  },
  {
    name: 'only one of two platforms',
    lines: () => [`linux/amd64=${digests['linux/amd64']}`],
    error: /no digest for linux\/arm64: every platform's job must verify and push before the merge; no tag was moved/,
  },
  {
    name: 'a platform given twice',
    lines: () => [`linux/amd64=${digests['linux/amd64']}`, `linux/amd64=${digests['linux/amd64']}`, `linux/arm64=${digests['linux/arm64']}`],
    error: /linux\/amd64 is given twice/,
  },
  {
    name: 'a digest from another repository',
    lines: () => [`linux/amd64=${registry.host}/other/repo@${digests['linux/amd64']}`, `linux/arm64=${digests['linux/arm64']}`],
    error: /linux\/amd64: digest is from .*other\/repo, not .*example\/distributed; no tag was moved/,
  },
  {
    name: 'a digest the repository does not have',
    lines: () => [`linux/amd64=sha256:${'ab'.repeat(32)}`, `linux/arm64=${digests['linux/arm64']}`],
    error: /linux\/amd64: sha256:(ab){32} is not in .*example\/distributed/,
  },
])('merge refuses $name and moves no tag', async ({ lines, error }) => {
  const r = await merge(lines());
  console.log(`merge refusing ${lines().length} digest line(s): ${r.seconds.toFixed(1)}s`);
  expect(r.code).not.toBe(0);
  expect(r.output).toMatch(error);
  expect(await registry.imageTags(repository)).toEqual([]);
});

test('merge of both digests tags one manifest list with both platforms', async () => {
  const r = await merge([`linux/amd64=${digests['linux/amd64']}`, `linux/arm64=${digests['linux/arm64']}`]);
  console.log(`merge: ${r.seconds.toFixed(1)}s`);
  if (r.code !== 0) console.log(r.output.slice(-3000));
  expect(r.code).toBe(0);
  expect((await registry.imageTags(repository)).sort()).toEqual(['0123456', 'latest']);
  const list = await registry.manifest(repository, 'latest');
  expect(list.digest).toBe(r.outputs.digest);
  const byPlatform = Object.fromEntries(
    list.json.manifests.map((m: { digest: string; platform: { os: string; architecture: string } }) => [
      `${m.platform.os}/${m.platform.architecture}`,
      m.digest,
    ]),
  );
  expect(byPlatform).toEqual(digests);
  expect((await registry.manifest(repository, '0123456')).digest).toBe(list.digest);
  // What the platform jobs pushed, pulled back into an empty engine, runs with the verified torch.
  for (const [platform, run] of Object.entries(platformRuns)) {
    const [entry] = JSON.parse(run.outputs.report);
    const back = await pullBack(registry, repository, byPlatform[platform], platform);
    expect(back.id).toBe(entry.imageId);
    expect(back.probe).toMatchObject(entry.seen);
  }
});

describe('an ml-image.yml with two images, fanned out per image as build.yml does', () => {
  const variantsRepo = 'example/variants';
  let config: string;
  const dir = workspaceTempDir('mlib-variants-');

  beforeAll(() => {
    config = path.join(dir, 'ml-image.yml');
    fs.writeFileSync(
      config,
      [
        'defaults:',
        `  image: ${registry.host}/${variantsRepo}`,
        `  context: ${path.join(ROOT, 'examples/worker')}`,
        `  torch-index-url: ${index.url}`,
        '  network: host',
        '  platforms: [linux/amd64]',
        'images:',
        '  - name: cuda',
        '    torch-variants: {linux/amd64: cu121}',
        '  - name: cpu',
        '    torch-variants: {linux/amd64: cpu}',
      ].join('\n'),
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('each image: its own platform job (select) and merge; tags carry the image suffix', async () => {
    for (const name of ['cuda', 'cpu']) {
      const build = await runDist({ ...common(), image: '', config, select: name, mode: 'platform', platforms: 'linux/amd64', 'build-args': LOCAL_BASE_ARGS });
      console.log(`config image ${name}, platform job: ${build.seconds.toFixed(1)}s, exit ${build.code}`);
      if (build.code !== 0) console.log(build.output.slice(-3000));
      expect(build.code).toBe(0);
      expect(JSON.parse(build.outputs.report).map((r: { name: string; seen: { torch: string } }) => [r.name, r.seen.torch])).toEqual([
        [name, name === 'cuda' ? '2.2.2+cu121' : '2.2.2+cpu'],
      ]);
      const merged = await runDist({
        ...common(),
        image: '',
        config,
        select: name,
        mode: 'merge',
        platforms: 'linux/amd64',
        digests: `linux/amd64=${build.outputs.digest}`,
      });
      expect(merged.code).toBe(0);
    }
    expect((await registry.imageTags(variantsRepo)).sort()).toEqual(['0123456-cpu', '0123456-cuda', 'latest-cpu', 'latest-cuda']);
    const cpu = await registry.manifest(variantsRepo, 'latest-cpu');
    const cuda = await registry.manifest(variantsRepo, 'latest-cuda');
    expect(cpu.digest).not.toBe(cuda.digest);
  });
});
