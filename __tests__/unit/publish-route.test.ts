import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pushByDigestArgv } from '../../src/builder/argv';
import { parseAnnotations } from '../../src/plan/annotations';
import { NO_BUILD_OPTIONS } from '../../src/builder/options';
import { createPlan } from '../../src/plan/plan';
import { choosePushRoute, parseBuildMetadata, writePushConfig } from '../../src/publish/route';
import { FROZEN_NOW, inputs, runContext } from './fixtures';

describe('choosePushRoute', () => {
  test.each([
    {
      name: 'setup-buildx-action builder: BuildKit pushes by digest',
      buildx: true,
      driver: 'docker-container',
      store: 'classic' as const,
      via: 'buildkit',
      says: /driver docker-container/,
    },
    { name: 'remote BuildKit', buildx: true, driver: 'remote', store: 'classic' as const, via: 'buildkit', says: /driver remote/ },
    { name: 'kubernetes BuildKit', buildx: true, driver: 'kubernetes', store: 'classic' as const, via: 'buildkit', says: /driver kubernetes/ },
    {
      name: 'buildx docker driver refuses push-by-digest',
      buildx: true,
      driver: 'docker',
      store: 'classic' as const,
      via: 'stream',
      says: /driver 'docker' cannot push by digest.*staging copy|stages a copy/,
    },
    { name: 'no buildx: the engine BuildKit', buildx: false, driver: '', store: 'classic' as const, via: 'stream', says: /no buildx plugin.*stages a copy/ },
    {
      name: 'containerd store: blobs as stored, whatever the builder',
      buildx: true,
      driver: 'docker-container',
      store: 'containerd' as const,
      via: 'stream',
      says: /containerd image store.*as they are/,
    },
    {
      name: 'containerd store without buildx',
      buildx: false,
      driver: '',
      store: 'containerd' as const,
      via: 'stream',
      says: /without compression or a staging copy/,
    },
  ])('$name', ({ buildx, driver, store, via, says }) => {
    const r = choosePushRoute({ buildx, driver, store });
    expect(r.via).toBe(via);
    expect(r.reason).toMatch(says);
  });
});

describe('pushByDigestArgv', () => {
  const plan = createPlan(inputs({ target: 'runtime', network: 'host', buildArgs: [{ name: 'X', value: 'a=b' }] }), runContext(), FROZEN_NOW);
  const amd = plan.platforms[0];
  const argv = pushByDigestArgv(
    plan,
    amd,
    { context: 'ctx', file: 'ctx/Dockerfile', target: 'runtime', network: 'host', build: NO_BUILD_OPTIONS },
    '/tmp/meta.json',
    [],
  );
  const valuesOf = (flag: string) => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]] : []));

  test.each([
    { name: 'buildx build', pick: () => argv.slice(0, 2), want: ['buildx', 'build'] },
    {
      name: 'pushes by digest under the image name, no tag',
      pick: () => valuesOf('--output'),
      want: ['type=image,name=ghcr.io/org/worker,push-by-digest=true,name-canonical=true,push=true'],
    },
    {
      name: 'no provenance or SBOM attestations in the pushed image',
      pick: () => argv.filter((a) => a.startsWith('--provenance') || a.startsWith('--sbom')),
      want: ['--provenance=false', '--sbom=false'],
    },
    { name: 'metadata file for the digest', pick: () => valuesOf('--metadata-file'), want: ['/tmp/meta.json'] },
    { name: 'the verified build: same platform', pick: () => valuesOf('--platform'), want: ['linux/amd64'] },
    { name: 'same target and network', pick: () => [...valuesOf('--target'), ...valuesOf('--network')], want: ['runtime', 'host'] },
    { name: 'same build args', pick: () => valuesOf('--build-arg').slice(-1), want: ['X=a=b'] },
    { name: 'never --load, --tag or --push', pick: () => argv.filter((a) => ['--load', '--tag', '--push', '-t'].includes(a)), want: [] },
    { name: 'context last', pick: () => argv.slice(-1), want: ['ctx'] },
  ])('$name', ({ pick, want }) => {
    expect(pick()).toEqual(want);
  });

  test('labels and build args equal those of the verified build', async () => {
    const { buildArgv } = await import('../../src/builder/argv');
    const built = buildArgv(
      plan,
      amd,
      { context: 'ctx', file: 'ctx/Dockerfile', target: 'runtime', network: 'host', build: NO_BUILD_OPTIONS },
      true,
      '/tmp/iid',
      [],
    );
    const pick = (a: string[], flag: string) => a.flatMap((x, i) => (x === flag ? [a[i + 1]] : []));
    expect(pick(argv, '--label')).toEqual(pick(built, '--label'));
    expect(pick(argv, '--build-arg')).toEqual(pick(built, '--build-arg'));
  });
});

describe('pushByDigestArgv with annotations', () => {
  const plan = createPlan(
    inputs({
      annotations: parseAnnotations(
        'org.opencontainers.image.title=worker, ASR\nmanifest[linux/arm64]:com.acme.board=graviton\nindex:i.k=v\nmanifest-descriptor:d.k=v',
      ),
    }),
    runContext(),
    FROZEN_NOW,
  );
  const argvOf = (i: number) =>
    pushByDigestArgv(
      plan,
      plan.platforms[i],
      { context: 'ctx', file: 'ctx/Dockerfile', target: '', network: '', build: NO_BUILD_OPTIONS },
      '/tmp/meta.json',
      [],
    );
  const valuesOf = (argv: string[], flag: string) => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]] : []));

  test.each([
    {
      name: 'amd64: its manifest annotations only (index and descriptor ones go on our list)',
      i: 0,
      flag: '--annotation',
      want: ['manifest:org.opencontainers.image.title=worker, ASR'],
    },
    {
      name: 'arm64: its own line too, without the [PLATFORM] (the build has one)',
      i: 1,
      flag: '--annotation',
      want: ['manifest:com.acme.board=graviton', 'manifest:org.opencontainers.image.title=worker, ASR'],
    },
    {
      name: 'OCI media types asked for explicitly',
      i: 0,
      flag: '--output',
      want: ['type=image,name=ghcr.io/org/worker,push-by-digest=true,name-canonical=true,push=true,oci-mediatypes=true'],
    },
  ])('$name', ({ i, flag, want }) => {
    expect(valuesOf(argvOf(i), flag)).toEqual(want);
  });

  test('without annotations: no --annotation and the default media types', () => {
    const bare = createPlan(inputs(), runContext(), FROZEN_NOW);
    const argv = pushByDigestArgv(
      bare,
      bare.platforms[0],
      { context: 'ctx', file: 'ctx/Dockerfile', target: '', network: '', build: NO_BUILD_OPTIONS },
      '/tmp/meta.json',
      [],
    );
    expect(argv).not.toContain('--annotation');
    expect(valuesOf(argv, '--output')[0]).not.toContain('oci-mediatypes');
  });

  test('user labels reach the build as --label, after the derived ones they replace', () => {
    const labelled = createPlan(inputs({ labels: { 'org.opencontainers.image.title': 'Speech', 'com.acme.team': 'asr' } }), runContext(), FROZEN_NOW);
    const labels = valuesOf(
      pushByDigestArgv(
        labelled,
        labelled.platforms[0],
        { context: 'ctx', file: 'ctx/Dockerfile', target: '', network: '', build: NO_BUILD_OPTIONS },
        '/tmp/meta.json',
        [],
      ),
      '--label',
    );
    expect(labels).toContain('org.opencontainers.image.title=Speech');
    expect(labels).toContain('com.acme.team=asr');
    expect(labels.filter((l) => l.startsWith('org.opencontainers.image.title='))).toHaveLength(1);
  });
});

describe('parseBuildMetadata', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  test('digest and config digest', () => {
    expect(
      parseBuildMetadata(
        JSON.stringify({ 'containerimage.digest': digest, 'containerimage.config.digest': `sha256:${'b'.repeat(64)}`, 'buildx.build.ref': 'x' }),
      ),
    ).toEqual({ digest, configDigest: `sha256:${'b'.repeat(64)}` });
  });
  test.each([
    { name: 'no digest', text: '{}' },
    { name: 'not a digest', text: '{"containerimage.digest":"latest"}' },
  ])('refuses $name', ({ text }) => {
    expect(() => parseBuildMetadata(text)).toThrow(/no containerimage.digest/);
  });
});

describe('writePushConfig', () => {
  test("the user's config with this registry's login, everything else linked, mode 0700/0600", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mlib-route-test-'));
    const user = path.join(root, 'user');
    fs.mkdirSync(path.join(user, 'buildx'), { recursive: true });
    fs.writeFileSync(
      path.join(user, 'config.json'),
      JSON.stringify({ auths: { 'other.io': { auth: 'eA==' } }, credsStore: 'desktop', credHelpers: { 'ghcr.io': 'gh' } }),
    );
    const saved = process.env.DOCKER_CONFIG;
    process.env.DOCKER_CONFIG = user;
    try {
      const dir = writePushConfig(root, 'ghcr.io', { username: 'octo', password: 'pw' });
      const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
      expect(config.auths['ghcr.io'].auth).toBe(Buffer.from('octo:pw').toString('base64'));
      expect(config.auths['other.io']).toEqual({ auth: 'eA==' });
      expect(config.credsStore).toBeUndefined();
      expect(config.credHelpers['ghcr.io']).toBeUndefined();
      expect(fs.readlinkSync(path.join(dir, 'buildx'))).toBe(path.join(user, 'buildx'));
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
      expect(fs.statSync(path.join(dir, 'config.json')).mode & 0o777).toBe(0o600);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = saved;
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
