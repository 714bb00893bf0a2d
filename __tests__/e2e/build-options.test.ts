import { execFileSync, spawn, type ChildProcess } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { leaks, leftoverContainers, runDist, runLocalTags, type ActionRun } from './support/action';
import { DOCKER, ROOT, workspaceTempDir } from './support/env';
import { faultyInputs } from './support/faulty-worker';
import { Registry, WheelIndex } from './support/services';

// The build options of build-push-action on the real engine. This machine has no buildx:
// the engine's BuildKit (docker build) takes secrets, ssh, pull, no-cache and image-ref caches,
// and the options it cannot apply are refused before any build.
jest.setTimeout(10 * 60 * 1000);

const registry = new Registry();
const index = new WheelIndex();
let context: string;
/** Outside the workspace, as a secret file written to RUNNER_TEMP by an earlier step would be. */
let outside: string;
let agent: ChildProcess | undefined;
let agentSock = '';

const SECRET = `s3cr3t=${crypto.randomBytes(9).toString('hex')}`;
const FILE_SECRET = `file-secret-${crypto.randomBytes(9).toString('hex')}`;
const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

/**
 * The faulty worker's passing stage plus RUNs that fail the build unless each secret holds the
 * expected bytes (compared by sha256, so the value is in no build arg), the ssh agent answers,
 * and the network-free base is used.
 */
const DOCKERFILE = `ARG BASE_IMAGE
FROM \${BASE_IMAGE}
ARG TORCH_VERSION
ARG TORCHAUDIO_VERSION
ARG TORCH_INDEX_URL
ENV PIP_BREAK_SYSTEM_PACKAGES=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1
RUN python3 -m pip install --index-url "$TORCH_INDEX_URL" "torch==$TORCH_VERSION" "torchaudio==$TORCHAUDIO_VERSION"
RUN useradd --create-home --uid 10001 worker && mkdir -p /models && chown worker /models
ENV HF_HOME=/models
WORKDIR /app
COPY server.py fault.py /app/
ARG SECRET_SHA=
ARG FILE_SECRET_SHA=
RUN --mount=type=secret,id=api_token --mount=type=secret,id=pip_conf \\
    if [ -n "$SECRET_SHA" ]; then \\
      test "$(sha256sum < /run/secrets/api_token | cut -d' ' -f1)" = "$SECRET_SHA" && \\
      test "$(sha256sum < /run/secrets/pip_conf | cut -d' ' -f1)" = "$FILE_SECRET_SHA" && echo "secrets match"; \\
    fi
ARG WITH_SSH=
RUN --mount=type=ssh if [ -n "$WITH_SSH" ]; then python3 -c "import os,socket,struct; s=socket.socket(socket.AF_UNIX); s.connect(os.environ['SSH_AUTH_SOCK']); s.sendall(struct.pack('>IB',1,11)); n=struct.unpack('>I',s.recv(4))[0]; d=s.recv(n); assert d[0]==12, d[0]; print('ssh agent keys:', struct.unpack('>I',d[1:5])[0])"; fi
ARG CACHE_NONCE=
RUN if [ -n "$CACHE_NONCE" ]; then echo "$CACHE_NONCE" > /app/cache-nonce; fi
USER worker
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["python3", "/app/fault.py", "--health"]
CMD ["python3", "/app/fault.py"]
`;

beforeAll(async () => {
  await Promise.all([registry.start(), index.start('2.2.2')]);
  context = workspaceTempDir('mlib-options-');
  fs.copyFileSync(path.join(ROOT, 'examples/worker/server.py'), path.join(context, 'server.py'));
  fs.copyFileSync(path.join(ROOT, '__tests__/fixtures/faulty-worker/fault.py'), path.join(context, 'fault.py'));
  fs.writeFileSync(path.join(context, 'Dockerfile'), DOCKERFILE);
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'mlib-options-secret-'));
  fs.writeFileSync(path.join(outside, 'pip.conf'), FILE_SECRET);
  // An agent of our own with one key, on a socket only this test uses.
  agentSock = path.join(outside, 'agent.sock');
  agent = spawn('ssh-agent', ['-D', '-a', agentSock], { stdio: 'ignore' });
  for (let i = 0; i < 50 && !fs.existsSync(agentSock); i++) await new Promise((r) => setTimeout(r, 100));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(outside, 'key')]);
  execFileSync('ssh-add', ['-q', path.join(outside, 'key')], { env: { ...process.env, SSH_AUTH_SOCK: agentSock }, stdio: 'ignore' });
});

afterAll(() => {
  agent?.kill();
  registry.stop();
  index.stop();
  fs.rmSync(context, { recursive: true, force: true });
  fs.rmSync(outside, { recursive: true, force: true });
});

afterEach(() => {
  expect(leftoverContainers()).toEqual([]);
});

const inputs = (repository: string, extra: Record<string, string>) =>
  faultyInputs(registry, index, context, repository, { platforms: 'linux/amd64', ...extra }, 'tok-build-options-0901');

/** Nothing of the run is left: no temp dir (the secrets' included), no local tag. */
function expectNothingLeft(run: ActionRun, repository: string): void {
  expect(run.runnerTempAfterMain).toEqual([]);
  expect(run.runnerTempAfterPost).toEqual([]);
  expect(runLocalTags(`${registry.host}/${repository}`)).toEqual([]);
}

test('secrets and secret-files reach RUN --mount=type=secret with their exact bytes, ssh the agent; no value in log, outputs, summary or image', async () => {
  const repository = 'options/secrets';
  const run = await runDist(
    inputs(repository, {
      secrets: `api_token=${SECRET}`,
      'secret-files': `pip_conf=${path.join(outside, 'pip.conf')}`,
      ssh: `default=${agentSock}`,
      'build-args': `SECRET_SHA=${sha(SECRET)}\nFILE_SECRET_SHA=${sha(FILE_SECRET)}\nWITH_SSH=1\nAPI_TOKEN=not-a-secret-0901`,
    }),
  );
  console.log(`secrets, secret-files, ssh: ${run.seconds.toFixed(1)}s`);
  if (run.code !== 0) console.log(run.output.slice(-4000));
  expect(run.code).toBe(0);
  // What the RUNs printed (`#N 0.123 text`), not the echo of the Dockerfile line.
  expect(run.output).toMatch(/^#\d+ \d+\.\d+ secrets match$/m);
  expect(run.output).toMatch(/^#\d+ \d+\.\d+ ssh agent keys: 1$/m);
  // The build read the secret from a private temp file, gone when the run ended.
  const src = /--secret id=api_token,src=(\S+\/mlib-secrets-[^/\s]+\/0)/.exec(run.output)?.[1];
  expect(src).toBeDefined();
  expect(fs.existsSync(path.dirname(src!))).toBe(false);
  expect(run.output).toContain(`--secret id=pip_conf,src=${path.join(outside, 'pip.conf')}`);
  // The user's own secret file is theirs: read, not removed.
  expect(fs.readFileSync(path.join(outside, 'pip.conf'), 'utf8')).toBe(FILE_SECRET);
  expect(run.output).toMatch(
    /::warning::build arg API_TOKEN looks like a secret: build args are printed in the log, stored in the plan output and kept in the image history. Pass it with `secrets: API_TOKEN=...` and read it with `RUN --mount=type=secret,id=API_TOKEN`/,
  );
  expect(run.output).not.toMatch(/build arg (SECRET_SHA|FILE_SECRET_SHA|WITH_SSH) looks like a secret/);

  // Masked before anything else was printed; nowhere else in what the run gives back.
  expect(run.output).toContain(`::add-mask::${SECRET}`);
  for (const value of [SECRET, FILE_SECRET]) {
    expect(leaks(run.output + run.postOutput + run.summary, value)).toEqual([]);
    expect(Object.entries(run.outputs).filter(([, v]) => v.includes(value))).toEqual([]);
  }

  // Nor in the pushed image: its config holds the env, labels and history (`docker history`).
  const list = await registry.manifest(repository, 'latest');
  const image = await registry.manifest(repository, list.json.manifests[0].digest);
  const config = JSON.stringify(await registry.blob(repository, image.json.config.digest));
  expect(config).toContain('RUN |'); // the history is there, build args and all
  expect(config).toContain(sha(SECRET));
  expect(config).not.toContain(SECRET);
  expect(config).not.toContain(FILE_SECRET);
  expectNothingLeft(run, repository);
});

test('a secret that is not the expected value fails the build (the check above can fail); its temp file is removed on failure too', async () => {
  const repository = 'options/wrong-secret';
  // no-cache: a secret is not part of BuildKit's cache key, so the RUN of the case above would be reused as it is.
  const run = await runDist(
    inputs(repository, {
      'no-cache': 'true',
      secrets: `api_token=${SECRET}-other`,
      'secret-files': `pip_conf=${path.join(outside, 'pip.conf')}`,
      'build-args': `SECRET_SHA=${sha(SECRET)}\nFILE_SECRET_SHA=${sha(FILE_SECRET)}`,
    }),
  );
  expect(run.code).not.toBe(0);
  expect(run.output).toMatch(/build of linux\/amd64 failed/);
  expect(run.output).not.toMatch(/^#\d+ \d+\.\d+ secrets match$/m);
  expect(leaks(run.output + run.postOutput + run.summary, `${SECRET}-other`)).toEqual([]);
  expect(await registry.tags(repository)).toEqual([]);
  expectNothingLeft(run, repository);
});

test('no-cache rebuilds every step; an image-ref cache-from is passed scoped to the platform', async () => {
  const repository = 'options/no-cache';
  const cacheRef = `${registry.host}/options/cache:build`;
  const base = inputs(repository, { push: 'false', 'cache-from': cacheRef });
  const cached = await runDist(base);
  const uncached = await runDist({ ...base, 'no-cache': 'true' });
  console.log(`cached ${cached.seconds.toFixed(1)}s, no-cache ${uncached.seconds.toFixed(1)}s`);
  for (const r of [cached, uncached]) {
    if (r.code !== 0) console.log(r.output.slice(-3000));
    expect(r.code).toBe(0);
    expect(r.output).toContain(`--cache-from ${cacheRef}-amd64`);
    expectNothingLeft(r, repository);
  }
  // BuildKit tried the scoped ref (this registry wants a login the engine's client has not got, so
  // the import fails and BuildKit goes on without it, as it does with any cache it cannot read).
  expect(cached.output).toContain(`importing cache manifest from ${cacheRef}-amd64`);
  const pipStep = (r: ActionRun) => /^#(\d+) \[[^\]]*\] RUN python3 -m pip install /m.exec(r.output)?.[1];
  expect(pipStep(cached)).toBeDefined();
  expect(cached.output).toMatch(new RegExp(`^#${pipStep(cached)} CACHED`, 'm'));
  expect(uncached.output).toContain(' --no-cache ');
  // Every RUN ran again (the base image is a local one, and FROM a local image shows as CACHED either way).
  expect(uncached.output).toContain(`#${pipStep(uncached)} 0.`);
  expect(uncached.output).not.toMatch(new RegExp(`^#${pipStep(uncached)} CACHED`, 'm'));
  expect(uncached.output.match(/^#\d+ CACHED/gm) ?? []).toHaveLength(1);
});

test('cache-to type=inline, then cache-from the pushed image: a step BuildKit has no local cache for comes from the registry', async () => {
  const repository = 'options/cache-src';
  const args = `CACHE_NONCE=${crypto.randomBytes(8).toString('hex')}`;
  const first = await runDist(inputs(repository, { 'cache-to': 'type=inline', tags: 'cache-amd64', 'tag-rules': 'none', 'build-args': args }));
  if (first.code !== 0) console.log(first.output.slice(-3000));
  expect(first.code).toBe(0);
  expect(first.output).toContain('--build-arg BUILDKIT_INLINE_CACHE=1');
  expect(await registry.tags(repository)).toContain('cache-amd64');

  // The engine's client logs in to the registry as docker/login-action would (a config of its own).
  const dockerConfig = fs.mkdtempSync(path.join(outside, 'docker-config-'));
  const auth = Buffer.from(`${registry.user}:${registry.password}`).toString('base64');
  fs.writeFileSync(path.join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth } } }));
  // BuildKit prints the RUN with the build arg's value in it.
  const nonceStep = (r: ActionRun) => /^#(\d+) \[[^\]]*\] RUN if \[ -n "[0-9a-f]{16}" \]; then echo/m.exec(r.output)?.[1];
  const again = (cacheFrom: Record<string, string>) => {
    // BuildKit's own cache emptied (images stay): only an imported cache can spare the step.
    execFileSync(DOCKER, ['builder', 'prune', '-af'], { stdio: 'ignore' });
    return runDist(inputs('options/cache-use', { push: 'false', 'build-args': args, ...cacheFrom }), { env: { DOCKER_CONFIG: dockerConfig } });
  };
  const without = await again({});
  const withCache = await again({ 'cache-from': `${registry.host}/${repository}:cache` });
  console.log(
    `inline cache: pushed in ${first.seconds.toFixed(1)}s; rebuilt without it ${without.seconds.toFixed(1)}s, with it ${withCache.seconds.toFixed(1)}s`,
  );
  for (const r of [without, withCache]) {
    if (r.code !== 0) console.log(r.output.slice(-3000));
    expect(r.code).toBe(0);
    expect(nonceStep(r)).toBeDefined();
  }
  // The control: with no cache to import, the step runs.
  expect(without.output).not.toMatch(new RegExp(`^#${nonceStep(without)} CACHED`, 'm'));
  // Scoped to the platform (:cache -> :cache-amd64), read with the login, and the step is taken from it.
  expect(withCache.output).toContain(`--cache-from ${registry.host}/${repository}:cache-amd64`);
  expect(withCache.output).toMatch(new RegExp(`^#${nonceStep(withCache)} CACHED`, 'm'));
  expectNothingLeft(withCache, 'options/cache-use');
});

test('pull looks the base image up in its registry (here unreachable, so the build fails at FROM); nothing is pushed or left', async () => {
  const repository = 'options/pull';
  const run = await runDist(inputs(repository, { pull: 'true' }));
  console.log(`pull: ${run.seconds.toFixed(1)}s`);
  expect(run.code).not.toBe(0);
  expect(run.output).toMatch(/docker build .* --pull /);
  expect(run.output).toMatch(/build of linux\/amd64 failed .*registry-1\.docker\.io/);
  expect(await registry.tags(repository)).toEqual([]);
  expectNothingLeft(run, repository);
});

test.each([
  {
    input: 'shm-size',
    value: '256m',
    says: /Input 'shm-size': the engine BuildKit \(docker build; the buildx plugin is not installed\) accepts --shm-size but does not apply it to RUN/,
  },
  { input: 'ulimit', value: 'nofile=1024:1024', says: /Input 'ulimit': the engine BuildKit .* accepts --ulimit but does not apply it to RUN/ },
  { input: 'build-contexts', value: 'extra=docker-image://mlib-base/bookworm-python3:amd64', says: /Input 'build-contexts': named contexts need buildx/ },
  { input: 'cache-from', value: 'type=gha', says: /Input 'cache-from': type=gha needs buildx, and this run builds with the engine BuildKit/ },
  { input: 'cache-to', value: 'type=registry,ref=localhost:5000/o/w:cache', says: /Input 'cache-to': type=registry needs buildx/ },
])('$input without buildx: refused before any build, naming the input and the builder; nothing left', async ({ input, value, says }) => {
  const repository = `options/refused-${input}`;
  const run = await runDist(inputs(repository, { [input]: value, secrets: `api_token=${SECRET}` }));
  expect(run.code).not.toBe(0);
  expect(run.output).toMatch(says);
  expect(run.output).not.toMatch(/::group::Build linux/);
  expect(run.output).not.toContain('mlib-secrets-');
  expect(await registry.tags(repository)).toEqual([]);
  expectNothingLeft(run, repository);
});
