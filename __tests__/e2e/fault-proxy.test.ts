import * as crypto from 'crypto';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { FaultProxy, classify, type Rule } from './support/fault-proxy';
import { LEEWAY_SECONDS, startTokenRegistry, type TokenRegistry } from './support/token-registry';

/**
 * Self-test of the test support: the token registry (Distribution 2.8 with our JWT issuer) and the
 * fault-injecting proxy, with real requests against the real registry binary.
 */

jest.setTimeout(20_000);

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  sawContinue: boolean;
  reusedSocket: boolean;
  ms: number;
}

interface SendOpts {
  headers?: Record<string, string>;
  body?: Buffer;
  /** Send `Expect: 100-continue` and hold the body until the server says 100 Continue. */
  expectContinue?: boolean;
  timeoutMs?: number;
  agent?: http.Agent;
}

const keepAlive = new http.Agent({ keepAlive: true });

/** One request with node's http client, body written in 16 KiB pieces. */
function send(host: string, method: string, target: string, o: SendOpts = {}): Promise<Reply> {
  const url = new URL(target, `http://${host}`);
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.body !== undefined || o.expectContinue) headers['content-length'] = String(o.body?.length ?? 0);
    if (o.expectContinue) headers.expect = '100-continue';
    const req = http.request({ host: url.hostname, port: url.port, method, path: url.pathname + url.search, headers, agent: o.agent ?? keepAlive });
    let sawContinue = false;
    const writeBody = () => {
      const body = o.body ?? Buffer.alloc(0);
      for (let i = 0; i < body.length; i += 16384) req.write(body.subarray(i, i + 16384));
      req.end();
    };
    req.on('continue', () => {
      sawContinue = true;
      writeBody();
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          sawContinue,
          reusedSocket: req.reusedSocket,
          ms: Date.now() - t0,
        });
        if (!req.writableEnded) req.destroy();
      });
    });
    req.on('error', reject);
    if (o.timeoutMs) req.setTimeout(o.timeoutMs, () => req.destroy(new Error('client timeout')));
    if (!o.expectContinue) writeBody();
  });
}

const sha256 = (b: Buffer) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function getToken(host: string, reg: TokenRegistry, scopes: string[], auth?: string): Promise<{ status: number; token?: string; expires_in?: number }> {
  const q = new URLSearchParams({ service: reg.service });
  for (const s of scopes) q.append('scope', s);
  const r = await send(host, 'GET', `/token?${q.toString()}`, { headers: auth ? { authorization: auth } : {} });
  const j = r.status === 200 ? (JSON.parse(r.body.toString()) as { token: string; access_token: string; expires_in: number; issued_at: string }) : undefined;
  if (j) {
    expect(j.access_token).toBe(j.token);
    expect(Number.isNaN(Date.parse(j.issued_at))).toBe(false);
  }
  return { status: r.status, token: j?.token, expires_in: j?.expires_in };
}

/** Monolithic upload (POST, then PUT ?digest= with the bytes); returns the PUT's status. */
async function pushBlob(host: string, repo: string, data: Buffer, headers: Record<string, string>): Promise<number> {
  const post = await send(host, 'POST', `/v2/${repo}/blobs/uploads/`, { headers });
  expect(post.status).toBe(202);
  const loc = new URL(String(post.headers.location), `http://${host}`);
  loc.searchParams.set('digest', sha256(data));
  const put = await send(host, 'PUT', loc.toString(), { headers: { ...headers, 'content-type': 'application/octet-stream' }, body: data });
  return put.status;
}

const MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';

/** A small schema-2 image (config + one layer) pushed to repo; returns the manifest bytes. */
async function pushImage(host: string, repo: string, tag: string, headers: Record<string, string>): Promise<Buffer> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: {} }));
  const layer = crypto.randomBytes(512);
  expect(await pushBlob(host, repo, config, headers)).toBe(201);
  expect(await pushBlob(host, repo, layer, headers)).toBe(201);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_V2,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha256(config) },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.length, digest: sha256(layer) }],
    }),
  );
  const put = await send(host, 'PUT', `/v2/${repo}/manifests/${tag}`, { headers: { ...headers, 'content-type': MANIFEST_V2 }, body: manifest });
  expect(put.status).toBe(201);
  return manifest;
}

afterAll(() => keepAlive.destroy());

describe('classify', () => {
  it('names Distribution API requests, nested repository names included', () => {
    const d = `sha256:${'a'.repeat(64)}`;
    expect(classify('GET', '/v2/')).toEqual({ kind: 'ping' });
    expect(classify('GET', '/token?scope=x')).toEqual({ kind: 'token' });
    expect(classify('HEAD', `/v2/o/r/w/blobs/${d}`)).toEqual({ kind: 'blob-head', repo: 'o/r/w', ref: d });
    expect(classify('GET', `/v2/o/blobs/${d}`).kind).toBe('blob-get');
    expect(classify('POST', '/v2/o/r/blobs/uploads/').kind).toBe('blob-post');
    expect(classify('POST', `/v2/o/r/blobs/uploads/?mount=${d}&from=x/y`)).toEqual({ kind: 'blob-mount', repo: 'o/r', ref: d });
    expect(classify('PATCH', '/v2/o/r/blobs/uploads/u-1?_state=s')).toEqual({ kind: 'blob-patch', repo: 'o/r', ref: 'u-1' });
    expect(classify('PUT', `/v2/o/r/blobs/uploads/u-1?digest=${d}`).kind).toBe('blob-put');
    expect(classify('HEAD', '/v2/o/r/manifests/v1').kind).toBe('manifest-head');
    expect(classify('GET', `/v2/o/r/manifests/${d}`)).toEqual({ kind: 'manifest-get', repo: 'o/r', ref: d });
    expect(classify('PUT', `/v2/o/r/manifests/${d}`).kind).toBe('manifest-put-digest');
    expect(classify('PUT', '/v2/o/r/manifests/cu121-v1')).toEqual({ kind: 'tag-put', repo: 'o/r', ref: 'cu121-v1' });
    expect(classify('GET', '/v2/o/r/tags/list?n=10')).toEqual({ kind: 'tags-list', repo: 'o/r' });
    expect(classify('DELETE', `/v2/o/r/manifests/${d}`).kind).toBe('other');
  });
});

describe('token registry', () => {
  let reg: TokenRegistry;
  beforeAll(async () => {
    reg = await startTokenRegistry();
  });
  afterAll(() => reg?.stop());

  it('challenges an anonymous client with Bearer and gives anonymous tokens no access', async () => {
    const r = await send(reg.host, 'GET', '/v2/');
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe(`Bearer realm="${reg.realm}",service="${reg.service}"`);
    expect(reg.realm).toBe(`${reg.issuerUrl}/token`);
    const scoped = await send(reg.host, 'GET', '/v2/anon/x/tags/list');
    expect(scoped.headers['www-authenticate']).toContain('scope="repository:anon/x:pull"');

    const issuerHost = new URL(reg.issuerUrl).host;
    const anon = await getToken(issuerHost, reg, ['repository:anon/x:pull,push']);
    expect(anon.status).toBe(200);
    expect(reg.grants.at(-1)).toMatchObject({ user: '', scopes: [] });
    expect((await send(reg.host, 'GET', '/v2/', { headers: { authorization: `Bearer ${anon.token}` } })).status).toBe(200);
    expect((await send(reg.host, 'POST', '/v2/anon/x/blobs/uploads/', { headers: { authorization: `Bearer ${anon.token}` } })).status).toBe(401);
  });

  it('issues tokens that push a blob and a manifest, which read back', async () => {
    const issuerHost = new URL(reg.issuerUrl).host;
    const repo = 'selftest/token/worker';
    const t = await getToken(issuerHost, reg, [`repository:${repo}:pull,push`, 'repository:selftest/other:pull'], basic(reg.user, reg.password));
    expect(t.status).toBe(200);
    expect(t.expires_in).toBe(300);
    expect(reg.grants.at(-1)).toMatchObject({ user: reg.user, scopes: [`repository:${repo}:pull,push`, 'repository:selftest/other:pull'] });
    const auth = { authorization: `Bearer ${t.token}` };

    const manifest = await pushImage(reg.host, repo, 'v1', auth);
    const got = await send(reg.host, 'GET', `/v2/${repo}/manifests/v1`, { headers: { ...auth, accept: MANIFEST_V2 } });
    expect(got.status).toBe(200);
    expect(got.body.equals(manifest)).toBe(true);
    expect(got.headers['docker-content-digest']).toBe(sha256(manifest));
    const tags = await send(reg.host, 'GET', `/v2/${repo}/tags/list`, { headers: auth });
    expect(JSON.parse(tags.body.toString())).toEqual({ name: repo, tags: ['v1'] });
  });

  it('refuses wrong credentials at the issuer', async () => {
    const issuerHost = new URL(reg.issuerUrl).host;
    const n = reg.grants.length;
    const t = await getToken(issuerHost, reg, ['repository:x/y:pull'], basic(reg.user, 'wrong'));
    expect(t.status).toBe(401);
    expect((await getToken(issuerHost, reg, ['repository:x/y:pull'], basic('someone-else', reg.password))).status).toBe(401);
    expect(reg.grants.length).toBe(n);
  });

  it(`makes a 3 s token expire at the registry after about 3 s (exp written ${LEEWAY_SECONDS} s early)`, async () => {
    const issuerHost = new URL(reg.issuerUrl).host;
    reg.setTokenTtl(3);
    try {
      const t = await getToken(issuerHost, reg, ['repository:ttl/x:pull,push'], basic(reg.user, reg.password));
      expect(t.expires_in).toBe(3);
      const use = async () => (await send(reg.host, 'GET', '/v2/ttl/x/tags/list', { headers: { authorization: `Bearer ${t.token}` } })).status;
      expect(await use()).toBe(404); // accepted: the repository just has no tags
      await sleep(4000);
      expect(await use()).toBe(401);
    } finally {
      reg.setTokenTtl(300);
    }
  });

  it('pins the leeway: the registry accepts exp up to 60 s past, not beyond', async () => {
    const use = async (token: string) => (await send(reg.host, 'GET', '/v2/', { headers: { authorization: `Bearer ${token}` } })).status;
    // mint(ttl) writes exp = now + ttl - LEEWAY: ttl 2 → exp 58 s ago, ttl -2 → exp 62 s ago.
    expect(await use(reg.mint(reg.user, [], 2))).toBe(200);
    expect(await use(reg.mint(reg.user, [], -2))).toBe(401);
  });

  it('also works with an x5c certificate chain in the JWT header', async () => {
    const other = await startTokenRegistry({ keyRef: 'x5c', user: 'u2', password: 'p2' });
    try {
      const t = await getToken(new URL(other.issuerUrl).host, other, ['repository:x5c/y:pull,push'], basic('u2', 'p2'));
      expect(await pushBlob(other.host, 'x5c/y', Buffer.from('x5c'), { authorization: `Bearer ${t.token}` })).toBe(201);
      expect((await send(other.host, 'GET', '/v2/', { headers: { authorization: `Bearer ${reg.mint(reg.user, [])}` } })).status).toBe(401); // another issuer's key
    } finally {
      other.stop();
    }
  });
});

describe('fault proxy in front of a token registry', () => {
  const repo = 'selftest/proxy/worker';
  let proxy: FaultProxy;
  let reg: TokenRegistry;
  let auth: Record<string, string>;
  const rules = (r: Rule[]) => {
    proxy.setRules(r);
    proxy.clearLog();
  };
  const ping = (o: SendOpts = {}) => send(proxy.host, 'GET', '/v2/', { ...o, headers: { ...auth, ...o.headers } });

  beforeAll(async () => {
    proxy = await new FaultProxy({ upstream: 'pending:1' }).start();
    reg = await startTokenRegistry({ realmBase: `http://${proxy.host}` });
    proxy.setUpstream(reg.host, reg.issuerUrl);
  });
  afterAll(async () => {
    await proxy?.stop();
    reg?.stop();
  });
  afterEach(() => proxy.setRules([]));

  it('forwards the challenge, the token endpoint and Host (Location points at the proxy)', async () => {
    const ch = await send(proxy.host, 'GET', '/v2/');
    expect(ch.status).toBe(401);
    expect(ch.headers['www-authenticate']).toContain(`realm="http://${proxy.host}/token"`);
    rules([{ kind: 'token', times: 1, fault: { type: 'status', status: 503 } }]);
    expect((await getToken(proxy.host, reg, [`repository:${repo}:pull,push`], basic(reg.user, reg.password))).status).toBe(503);
    const t = await getToken(proxy.host, reg, [`repository:${repo}:pull,push`], basic(reg.user, reg.password));
    expect(t.status).toBe(200);
    expect(proxy.count('token')).toBe(2);
    expect(proxy.log.map((l) => l.status)).toEqual([503, 200]);
    auth = { authorization: `Bearer ${t.token}` };
    const post = await send(proxy.host, 'POST', `/v2/${repo}/blobs/uploads/`, { headers: auth });
    expect(post.status).toBe(202);
    expect(String(post.headers.location)).toMatch(new RegExp(`^http://${proxy.host}/v2/${repo}/blobs/uploads/`));
  });

  it('keeps client connections alive', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await ping({ agent })).reusedSocket).toBe(false);
      const second = await ping({ agent });
      expect(second.status).toBe(200);
      expect(second.reusedSocket).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it('status: answers without upstream, with Retry-After and a Distribution error body', async () => {
    const digest = sha256(Buffer.from('absent'));
    rules([
      { kind: 'blob-head', times: 1, fault: { type: 'status', status: 429, retryAfter: '2' } },
      { kind: 'tags-list', times: 1, fault: { type: 'status', status: 500 } },
    ]);
    const h1 = await send(proxy.host, 'HEAD', `/v2/${repo}/blobs/${digest}`, { headers: auth });
    expect([h1.status, h1.headers['retry-after']]).toEqual([429, '2']);
    expect((await send(proxy.host, 'HEAD', `/v2/${repo}/blobs/${digest}`, { headers: auth })).status).toBe(404);
    const tl = await send(proxy.host, 'GET', `/v2/${repo}/tags/list`, { headers: auth });
    expect(tl.status).toBe(500);
    expect(JSON.parse(tl.body.toString())).toMatchObject({ errors: [{ code: 'UNAVAILABLE' }] });
    expect(proxy.count('blob-head', digest)).toBe(2);
    expect(proxy.log.map((l) => [l.kind, l.status, l.fault])).toEqual([
      ['blob-head', 429, 'status'],
      ['blob-head', 404, undefined],
      ['tags-list', 500, 'status'],
    ]);
  });

  it('skip and times count matching requests; always never runs out', async () => {
    rules([{ kind: 'ping', skip: 1, times: 2, fault: { type: 'status', status: 502 } }]);
    const seq: number[] = [];
    for (let i = 0; i < 5; i++) seq.push((await ping()).status);
    expect(seq).toEqual([200, 502, 502, 200, 200]);
    rules([{ kind: 'ping', times: 'always', fault: { type: 'status', status: 503 } }]);
    for (let i = 0; i < 4; i++) expect((await ping()).status).toBe(503);
  });

  it('tag-put rules match only their tag; puts by digest are another kind', async () => {
    const manifest = await pushImage(proxy.host, repo, 'good', auth);
    rules([{ kind: 'tag-put', tag: 'bad', times: 'always', fault: { type: 'status', status: 400 } }]);
    const put = (ref: string) => send(proxy.host, 'PUT', `/v2/${repo}/manifests/${ref}`, { headers: { ...auth, 'content-type': MANIFEST_V2 }, body: manifest });
    expect((await put('bad')).status).toBe(400);
    expect((await put('also-good')).status).toBe(201);
    expect((await put(sha256(manifest))).status).toBe(201);
    expect(proxy.log.map((l) => [l.kind, l.ref, l.status])).toEqual([
      ['tag-put', 'bad', 400],
      ['tag-put', 'also-good', 201],
      ['manifest-put-digest', sha256(manifest), 201],
    ]);
  });

  it('reset: the client gets no response at all', async () => {
    const data = Buffer.from('reset me');
    expect(await pushBlob(proxy.host, repo, data, auth)).toBe(201);
    rules([{ kind: 'blob-get', times: 1, fault: { type: 'reset' } }]);
    await expect(send(proxy.host, 'GET', `/v2/${repo}/blobs/${sha256(data)}`, { headers: auth })).rejects.toThrow(/ECONNRESET|socket hang up/);
    const again = await send(proxy.host, 'GET', `/v2/${repo}/blobs/${sha256(data)}`, { headers: auth });
    expect(again.body.equals(data)).toBe(true);
    expect(proxy.log.map((l) => [l.fault, l.status])).toEqual([
      ['reset', undefined],
      [undefined, 200],
    ]);
  });

  it('reset-mid-body: the upload breaks and the registry does not store the blob', async () => {
    const data = crypto.randomBytes(256 * 1024);
    rules([{ kind: 'blob-put', times: 1, fault: { type: 'reset-mid-body', afterBytes: 50_000 } }]);
    await expect(pushBlob(proxy.host, repo, data, auth)).rejects.toThrow(/ECONNRESET|EPIPE|socket hang up/);
    expect((await send(proxy.host, 'HEAD', `/v2/${repo}/blobs/${sha256(data)}`, { headers: auth })).status).toBe(404);
    expect(await pushBlob(proxy.host, repo, data, auth)).toBe(201);
  });

  it('silence: the request is read and never answered', async () => {
    rules([{ kind: 'tags-list', times: 1, fault: { type: 'silence' } }]);
    await expect(send(proxy.host, 'GET', `/v2/${repo}/tags/list`, { headers: auth, timeoutMs: 300 })).rejects.toThrow('client timeout');
    expect(proxy.log[0]).toMatchObject({ kind: 'tags-list', fault: 'silence' });
    expect(proxy.log[0].status).toBeUndefined();
    expect((await send(proxy.host, 'GET', `/v2/${repo}/tags/list`, { headers: auth })).status).toBe(200);
  });

  it('delay: forwards after the delay', async () => {
    rules([{ kind: 'ping', times: 1, fault: { type: 'delay', ms: 400 } }]);
    const slow = await ping();
    expect(slow.status).toBe(200);
    expect(slow.ms).toBeGreaterThanOrEqual(390);
    expect(proxy.log[0]).toMatchObject({ fault: 'delay', status: 200 });
  });

  it('throttle: paces the upload and it still lands intact', async () => {
    const data = crypto.randomBytes(60_000);
    rules([{ kind: 'blob-put', times: 1, fault: { type: 'throttle', bytesPerSecond: 100_000 } }]);
    const t0 = Date.now();
    expect(await pushBlob(proxy.host, repo, data, auth)).toBe(201);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
    const got = await send(proxy.host, 'GET', `/v2/${repo}/blobs/${sha256(data)}`, { headers: auth });
    expect(sha256(got.body)).toBe(sha256(data));
  });

  it('100-continue: a fault is answered before the client sends its body', async () => {
    const post = await send(proxy.host, 'POST', `/v2/${repo}/blobs/uploads/`, { headers: auth });
    rules([{ kind: 'blob-patch', times: 1, fault: { type: 'status', status: 503, retryAfter: '1' } }]);
    const r = await send(proxy.host, 'PATCH', String(post.headers.location), {
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      body: crypto.randomBytes(1 << 20),
      expectContinue: true,
    });
    expect(r.status).toBe(503);
    expect(r.sawContinue).toBe(false);
    expect(r.headers.connection).toBe('close');
    expect(proxy.log.map((l) => [l.kind, l.status, l.fault])).toEqual([['blob-patch', 503, 'status']]);
  });

  it('100-continue: PATCH and PUT stream through the proxy and store the blob', async () => {
    const data = crypto.randomBytes(300_000);
    const post = await send(proxy.host, 'POST', `/v2/${repo}/blobs/uploads/`, { headers: auth });
    const patch = await send(proxy.host, 'PATCH', String(post.headers.location), {
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      body: data,
      expectContinue: true,
    });
    expect(patch.status).toBe(202);
    expect(patch.sawContinue).toBe(true);
    expect(patch.headers.range).toBe(`0-${data.length - 1}`);
    const loc = new URL(String(patch.headers.location));
    expect(loc.host).toBe(proxy.host);
    loc.searchParams.set('digest', sha256(data));
    const put = await send(proxy.host, 'PUT', loc.toString(), { headers: auth, expectContinue: true });
    expect(put.status).toBe(201);
    // The proxy passes Expect on: the registry, with no body to read, answers without asking for it.
    expect(put.sawContinue).toBe(false);
    const got = await send(proxy.host, 'GET', `/v2/${repo}/blobs/${sha256(data)}`, { headers: auth });
    expect(sha256(got.body)).toBe(sha256(data));
  });
});

describe('fault proxy against a counting upstream', () => {
  let upstream: http.Server;
  let received: number[] = [];
  let proxy: FaultProxy;

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      let n = 0;
      const i = received.push(0) - 1;
      req.on('data', (c: Buffer) => {
        n += c.length;
        received[i] = n;
      });
      req.on('end', () => res.end(`got ${n}`));
      req.on('error', () => {});
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    proxy = await new FaultProxy({ upstream: `127.0.0.1:${(upstream.address() as AddressInfo).port}` }).start();
  });
  afterAll(async () => {
    await proxy.stop();
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  });

  it('reset-mid-body forwards exactly afterBytes of the body, then cuts both sides', async () => {
    received = [];
    proxy.setRules([{ kind: 'blob-patch', times: 1, fault: { type: 'reset-mid-body', afterBytes: 100_000 } }]);
    await expect(send(proxy.host, 'PATCH', '/v2/a/b/blobs/uploads/u1', { body: crypto.randomBytes(1 << 20) })).rejects.toThrow();
    await sleep(100);
    expect(received).toEqual([100_000]);
  });

  it('throttle paces the request body to the rate', async () => {
    received = [];
    proxy.setRules([{ kind: 'blob-patch', times: 1, fault: { type: 'throttle', bytesPerSecond: 200_000 } }]);
    const t0 = Date.now();
    const r = await send(proxy.host, 'PATCH', '/v2/a/b/blobs/uploads/u2', { body: crypto.randomBytes(200_000) });
    const ms = Date.now() - t0;
    expect(r.body.toString()).toBe('got 200000');
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(2000);
  });

  it('stop() closes silenced connections too', async () => {
    const p2 = await new FaultProxy({ upstream: proxy.upstream }).start();
    p2.setRules([{ kind: 'ping', times: 'always', fault: { type: 'silence' } }]);
    const pending = send(p2.host, 'GET', '/v2/', { agent: new http.Agent() });
    pending.catch(() => {});
    while (p2.count('ping') === 0) await sleep(10);
    const t0 = Date.now();
    await p2.stop();
    await expect(pending).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
