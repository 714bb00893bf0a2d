import * as fs from 'fs';
import * as path from 'path';
import { leftoverContainers, runDist, runLocalTags, type ActionRun } from './support/action';
import { FaultProxy, type Fault, type RequestKind, type Rule } from './support/fault-proxy';
import { faultyWorkerContext } from './support/faulty-worker';
import { pullBack } from './support/pullback';
import { LOCAL_BASE_ARGS, WheelIndex } from './support/services';
import { startTokenRegistry, type TokenRegistry } from './support/token-registry';

/*
 * A flaky registry: our fault-injecting proxy in front of the real Distribution registry with
 * Bearer token auth (its own JWT issuer, the GHCR / Docker Hub login flow; the token endpoint is
 * behind the proxy too). The action is the bundled dist/ run as a runner runs it; every image it
 * publishes is pulled back by digest into an empty engine and run.
 *
 * Retries are made quick here (50 ms backoff, 2-3 s idle timeouts) through the action's documented
 * MLIB_REGISTRY_* knobs; the count of tries is the production default (5).
 */
jest.setTimeout(20 * 60 * 1000);

const index = new WheelIndex();
let proxy: FaultProxy;
let reg: TokenRegistry;
const SHA_A = '0123456789abcdef0123456789abcdef01234567';
const SHA_B = '89abcdef0123456789abcdef0123456789abcdef';
const QUICK = {
  MLIB_REGISTRY_BASE_DELAY_MS: '50',
  MLIB_REGISTRY_MAX_DELAY_MS: '200',
  MLIB_REGISTRY_IDLE_TIMEOUT_MS: '2000',
  MLIB_REGISTRY_COMPLETE_TIMEOUT_MS: '3000',
};

beforeAll(async () => {
  proxy = await new FaultProxy({ upstream: '' }).start();
  reg = await startTokenRegistry({ realmBase: `http://${proxy.host}` });
  proxy.setUpstream(reg.host, reg.issuerUrl);
  await index.start();
});

afterAll(async () => {
  await proxy.stop();
  reg.stop();
  index.stop();
  for (const dir of [STABLE_WORKER, PER_COMMIT_WORKER]) fs.rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  proxy.setRules([]);
  expect(leftoverContainers()).toEqual([]);
});

/**
 * A worker whose layers do not depend on the commit (the faulty-worker fixture with no fault on),
 * so two runs build the same layers, as a nightly of unchanged code does.
 */
const STABLE_WORKER = faultyWorkerContext();

/**
 * The same worker with one more layer that holds the commit, as a worker that bakes its version
 * into a file does: each commit's publish uploads one new layer, which the fault cases need
 * (examples/worker no longer rebuilds anything per commit that a push would upload).
 */
const PER_COMMIT_WORKER = (() => {
  const dir = faultyWorkerContext();
  fs.appendFileSync(
    path.join(dir, 'Dockerfile'),
    ['', 'FROM final AS per-commit', 'ARG BUILD_COMMIT', 'RUN echo "$BUILD_COMMIT" > /home/worker/commit', ''].join('\n'),
  );
  return dir;
})();

/** One platform of a worker, published through the proxy. */
function publish(
  repository: string,
  opts: { sha?: string; rules?: Rule[]; env?: Record<string, string>; extra?: Record<string, string>; context?: string } = {},
): Promise<ActionRun> {
  proxy.setRules(opts.rules ?? []);
  proxy.clearLog();
  return runDist(
    {
      image: `${proxy.host}/${repository}`,
      platforms: 'linux/amd64',
      context: opts.context ?? PER_COMMIT_WORKER,
      'torch-index-url': index.url,
      network: 'host',
      'build-args': LOCAL_BASE_ARGS,
      'registry-username': reg.user,
      'registry-password': reg.password,
      ...opts.extra,
    },
    { github: { GITHUB_SHA: opts.sha ?? SHA_A }, env: { ...QUICK, ...opts.env } },
  );
}

/** The registry's own view (not through the proxy): tag -> digest. */
async function tagsOf(repository: string): Promise<Record<string, string>> {
  const token = reg.mint(reg.user, [`repository:${repository}:pull`]);
  const headers = {
    Authorization: `Bearer ${token}`,
    Accept: 'application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json',
  };
  const list = await fetch(`http://${reg.host}/v2/${repository}/tags/list`, { headers });
  if (list.status === 404) return {};
  // The `sha256-<hex>` tags of the referrers fallback list verification reports; no user pulls them.
  const tags = (((await list.json()) as { tags: string[] | null }).tags ?? []).filter((t) => !/^sha256-[0-9a-f]{64}$/.test(t));
  const out: Record<string, string> = {};
  for (const t of tags.sort())
    out[t] = (await fetch(`http://${reg.host}/v2/${repository}/manifests/${t}`, { method: 'HEAD', headers })).headers.get('docker-content-digest') ?? '';
  return out;
}

/** The run published the list it says, and its amd64 image pulled back runs with the verified torch. */
async function expectPublishedIntact(run: ActionRun, repository: string) {
  if (run.code !== 0) console.log(run.output.slice(-5000));
  expect(run.code).toBe(0);
  const [entry] = JSON.parse(run.outputs.report);
  const back = await pullBack({ host: reg.host, user: reg.user, password: reg.password }, repository, entry.digest, 'linux/amd64');
  expect(back.id).toBe(entry.imageId);
  expect(back.probe).toMatchObject({ torch: '2.2.2+cu121', torchaudio: '2.2.2+cu121', cuda: '12.1', machine: 'x86_64' });
}

const KINDS: Array<{ kind: RequestKind; tag?: string; fault: Fault }> = [
  { kind: 'token', fault: { type: 'status', status: 500 } },
  { kind: 'manifest-get', fault: { type: 'reset' } },
  { kind: 'blob-head', fault: { type: 'reset' } },
  { kind: 'blob-post', fault: { type: 'status', status: 503 } },
  { kind: 'blob-patch', fault: { type: 'status', status: 502 } },
  { kind: 'blob-put', fault: { type: 'status', status: 429, retryAfter: '1' } },
  { kind: 'manifest-put-digest', fault: { type: 'status', status: 500 } },
  { kind: 'tag-put', tag: '0123456', fault: { type: 'reset' } },
  { kind: 'tag-put', tag: 'latest', fault: { type: 'status', status: 503 } },
];

test.each([1, 3])('%i consecutive transient fault(s) on every kind of request: published intact', async (n) => {
  const repository = `faults/transient-${n}`;
  const run = await publish(repository, { rules: KINDS.map((k) => ({ ...k, times: n })) });
  console.log(`${n} fault(s) per kind: ${run.seconds.toFixed(1)}s`);
  await expectPublishedIntact(run, repository);
  for (const k of KINDS) {
    const hit = proxy.log.filter((l) => l.kind === k.kind && (k.tag === undefined || l.ref === k.tag));
    expect({ kind: k.kind, tag: k.tag, faulted: hit.filter((l) => l.fault).length }).toEqual({ kind: k.kind, tag: k.tag, faulted: n });
    expect(hit.length).toBeGreaterThan(n); // then it went through
  }
  expect(await tagsOf(repository)).toEqual({ '0123456': run.outputs.digest, latest: run.outputs.digest });
  expect(run.output).toMatch(/HTTP 50\d from 127\.0\.0\.1:\d+; try 2 of 5/);
});

test('a blob PUT that is never answered: the idle timeout ends it and the retry publishes', async () => {
  const repository = 'faults/silence';
  const run = await publish(repository, { rules: [{ kind: 'blob-put', times: 1, fault: { type: 'silence' } }] });
  console.log(`silent blob PUT: ${run.seconds.toFixed(1)}s`);
  await expectPublishedIntact(run, repository);
  expect(run.output).toMatch(/ETIMEDOUT from 127\.0\.0\.1:\d+; try 2 of 5/);
});

test('a connection cut in the middle of a layer costs that layer again, not a rebuild', async () => {
  const repository = 'faults/mid-layer';
  const run = await publish(repository, { rules: [{ kind: 'blob-patch', times: 1, fault: { type: 'reset-mid-body', afterBytes: 2_000_000 } }] });
  console.log(`cut mid-layer: ${run.seconds.toFixed(1)}s`);
  await expectPublishedIntact(run, repository);
  expect(run.output).toMatch(/reading docker save again for them \(pass 2 of 3\)/);
  expect(run.output.match(/::group::Build /g)).toHaveLength(1);
  // Only the cut layer went up twice: one PATCH per layer, plus one.
  const pushes = JSON.parse(run.outputs.report)[0].push;
  expect(proxy.count('blob-patch')).toBe(pushes.uploaded + 1);
});

/**
 * Slow answers to the requests without a body. (Not to the uploads: Distribution 2.8 leaves an
 * upload sent with `Expect: 100-continue` and a refused token unanswered until the body comes, so
 * a token must be good when an upload starts. The client makes sure of that: it renews a token
 * near its end, and an upload always follows the POST that opened it, which a refused token
 * fails first.)
 */
const SLOW: Rule[] = [
  { kind: 'blob-head', times: 'always', fault: { type: 'delay', ms: 400 } },
  { kind: 'blob-post', times: 'always', fault: { type: 'delay', ms: 300 } },
  { kind: 'manifest-get', times: 'always', fault: { type: 'delay', ms: 300 } },
];

test('a token lifetime shorter than the push: fresh tokens are fetched before the old one runs out', async () => {
  const repository = 'faults/short-token';
  reg.setTokenTtl(4);
  try {
    // Slow answers stretch the push well past the token's four seconds.
    const grantsBefore = reg.grants.length;
    const run = await publish(repository, { rules: SLOW });
    const grants = reg.grants.length - grantsBefore;
    console.log(`short-lived token: ${run.seconds.toFixed(1)}s, ${grants} tokens`);
    await expectPublishedIntact(run, repository);
    expect(grants).toBeGreaterThanOrEqual(3);
    expect(run.output).not.toMatch(/reading docker save again/); // no upload was refused half-way
  } finally {
    reg.setTokenTtl(300);
  }
});

test('a token refused in mid-run (it claimed to live longer): a 401 fetches a fresh one once, and the push goes on', async () => {
  const repository = 'faults/refused-token';
  // Tokens say they live 300 s; the registry refuses them after 2 s.
  reg.setTokenTtl(2, 300);
  try {
    const grantsBefore = reg.grants.length;
    const run = await publish(repository, { rules: SLOW });
    const grants = reg.grants.slice(grantsBefore);
    console.log(`token refused mid-run: ${run.seconds.toFixed(1)}s, ${grants.length} tokens`);
    await expectPublishedIntact(run, repository);
    // 401s came after the first token was granted, and each was answered by a new one.
    const refused = proxy.log.filter((l) => l.status === 401 && l.at > grants[0].at && l.kind !== 'ping');
    expect(refused.length).toBeGreaterThan(0);
    expect(grants.length).toBeGreaterThan(refused.length / 2);
  } finally {
    reg.setTokenTtl(300);
  }
});

describe('permanent faults: a clear error naming the request, and no split tags', () => {
  const repository = 'faults/permanent';
  let before: Record<string, string>;

  beforeAll(async () => {
    const first = await publish(repository, { sha: SHA_A });
    expect(first.code).toBe(0);
    before = await tagsOf(repository);
    expect(Object.keys(before)).toEqual(['0123456', 'latest']);
  });

  test.each<{ name: string; rule: Rule; says: RegExp }>([
    {
      name: 'token endpoint',
      rule: { kind: 'token', times: 'always', fault: { type: 'status', status: 503 } },
      says: /token request to 127\.0\.0\.1:\d+\/token for 127\.0\.0\.1:\d+ failed: HTTP 503 .*5 tries \(the token endpoint failed; this is not a credentials problem\)/,
    },
    {
      name: 'blob HEAD',
      rule: { kind: 'blob-head', times: 'always', fault: { type: 'status', status: 500 } },
      says: /checking for blob sha256:[0-9a-f]{12}… in 127\.0\.0\.1:\d+\/faults\/permanent: HEAD 127\.0\.0\.1:\d+\/v2\/faults\/permanent\/blobs\/sha256:[0-9a-f]{64} answered HTTP 500, 5 tries/,
    },
    {
      name: 'blob upload POST',
      rule: { kind: 'blob-post', times: 'always', fault: { type: 'status', status: 503 } },
      says: /POST 127\.0\.0\.1:\d+\/v2\/faults\/permanent\/blobs\/uploads\/ answered HTTP 503 \(UNAVAILABLE: injected fault: HTTP 503\), 5 tries/,
    },
    {
      name: 'blob PATCH',
      rule: { kind: 'blob-patch', times: 'always', fault: { type: 'status', status: 502 } },
      says: /could not upload every layer after 3 passes over docker save: upload of linux\/amd64 layer \d\/\d: PATCH 127\.0\.0\.1:\d+\/v2\/faults\/permanent\/blobs\/uploads\/[0-9a-f-]+ answered HTTP 502 \(UNAVAILABLE: injected fault: HTTP 502\), 5 tries/,
    },
    {
      name: 'blob PUT',
      rule: { kind: 'blob-put', times: 'always', fault: { type: 'reset' } },
      says: /PUT 127\.0\.0\.1:\d+\/v2\/faults\/permanent\/blobs\/uploads\/[0-9a-f-]+ failed: .*ECONNRESET/,
    },
    {
      name: 'manifest PUT by digest',
      rule: { kind: 'manifest-put-digest', times: 'always', fault: { type: 'status', status: 500 } },
      says: /PUT 127\.0\.0\.1:\d+\/v2\/faults\/permanent\/manifests\/sha256:[0-9a-f]{64} answered HTTP 500/,
    },
    {
      name: 'PUT of the new tag (moved last)',
      rule: { kind: 'tag-put', tag: '89abcde', times: 'always', fault: { type: 'status', status: 503 } },
      says: /moving tag 127\.0\.0\.1:\d+\/faults\/permanent:89abcde: PUT .* answered HTTP 503.*latest: restored/,
    },
    {
      name: 'PUT of latest (moved first)',
      rule: { kind: 'tag-put', tag: 'latest', times: 'always', fault: { type: 'status', status: 503 } },
      says: /moving tag 127\.0\.0\.1:\d+\/faults\/permanent:latest: PUT .* answered HTTP 503/,
    },
  ])('$name', async ({ rule, says }) => {
    const run = await publish(repository, { sha: SHA_B, rules: [rule] });
    console.log(`permanent fault on ${rule.kind}${rule.tag ? ` ${rule.tag}` : ''}: ${run.seconds.toFixed(1)}s`);
    expect(run.code).not.toBe(0);
    const error = run.output
      .split('\n')
      .filter((l) => l.startsWith('::error::'))
      .join('\n');
    expect(error).toMatch(says);
    // Read back from the registry itself: every tag is where it was.
    expect(await tagsOf(repository)).toEqual(before);
    expect(run.summary).not.toMatch(/Published manifest list/);
    expect(runLocalTags(`${proxy.host}/${repository}`)).toEqual([]);
  });

  test('a tag that fails after another moved: the summary and outputs say where every tag points', async () => {
    const run = await publish(repository, {
      sha: SHA_B,
      rules: [{ kind: 'tag-put', tag: '89abcde', times: 'always', fault: { type: 'status', status: 503 } }],
    });
    const [image] = JSON.parse(run.outputs.images);
    expect(image.complete).toBe(false);
    expect(image.tags).toEqual([]);
    expect(image.tagReport.map((t: { tag: string; fate: string; now?: string }) => [t.tag, t.fate, t.now])).toEqual([
      ['89abcde', 'failed', undefined],
      ['latest', 'restored', before.latest],
    ]);
    expect(run.summary).toContain('**Not every tag could be moved**');
    expect(run.summary).toMatch(/\| latest \| sha256:[0-9a-f]{64} \| sha256:[0-9a-f]{64} \| moved, then put back \|/);
    expect(run.summary).not.toContain('Nothing was published');
  });
});

describe('layers the registry already has cost no compression and no upload', () => {
  test('a second run of unchanged code: every layer is already there, only the new config goes up', async () => {
    const repository = 'reuse/again';
    expect((await publish(repository, { context: STABLE_WORKER })).code).toBe(0);
    const run = await publish(repository, { sha: SHA_B, context: STABLE_WORKER });
    console.log(`unchanged re-run: ${run.seconds.toFixed(1)}s`);
    await expectPublishedIntact(run, repository);
    const push = JSON.parse(run.outputs.report)[0].push;
    expect(push).toMatchObject({ uploaded: 0, bytesSent: 0 });
    expect(push.reused).toBe(push.layers);
    expect(proxy.count('blob-patch')).toBe(0);
    expect(run.output).not.toMatch(/gzip in/); // nothing was compressed
  });

  test("mount-from: a sibling repository's layers are mounted, not uploaded", async () => {
    const source = 'reuse/source';
    expect((await publish(source, { context: STABLE_WORKER })).code).toBe(0);
    const repository = 'reuse/mounted';
    const run = await publish(repository, { context: STABLE_WORKER, extra: { 'mount-from': `${proxy.host}/${source}:latest` } });
    console.log(`mounted from a sibling: ${run.seconds.toFixed(1)}s`);
    await expectPublishedIntact(run, repository);
    const push = JSON.parse(run.outputs.report)[0].push;
    expect(push.uploaded).toBe(0);
    expect(push.mounted).toBeGreaterThan(0);
    expect(proxy.log.filter((l) => l.kind === 'blob-mount' && l.status === 201).length).toBe(push.mounted);
    expect(proxy.count('blob-patch')).toBe(0);
  });
});
