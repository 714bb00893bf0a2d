import * as http from 'http';
import type { AddressInfo } from 'net';
import { ACCEPT_ANY, SimpleIndexClient } from '../../src/adapters/simple-index';
import type { RetryPolicy } from '../../src/adapters/registry/retry';
import { IndexUnavailable } from '../../src/plan/wheel-index';

// The HTTP side of the index preflight against a small server on 127.0.0.1 whose answers each test
// chooses (constructed pages, as in wheel-index.test.ts).

const FAST: RetryPolicy = {
  attempts: 3,
  baseDelayMs: 10,
  maxDelayMs: 20,
  maxRetryAfterMs: 50,
  budgetMs: 5000,
  connectTimeoutMs: 2000,
  idleTimeoutMs: 2000,
  completeTimeoutMs: 2000,
};
const FILE = 'torch-2.2.2+cu121-cp311-cp311-linux_x86_64.whl';
const HTML = `<html><body><a href="${FILE.replace('+', '%2B')}#sha256=00">${FILE}</a></body></html>`;
const JSON_BODY = JSON.stringify({ meta: { 'api-version': '1.0' }, name: 'torch', files: [{ filename: FILE, url: FILE.replace('+', '%2B'), hashes: {} }] });

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

async function serve(handler: Handler): Promise<{ url: string; seen: Array<{ path: string; accept: string }>; close: () => Promise<void> }> {
  const seen: Array<{ path: string; accept: string }> = [];
  const server = http.createServer((req, res) => {
    seen.push({ path: req.url ?? '', accept: String(req.headers.accept ?? '') });
    handler(req, res, seen.length);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/whl`, seen, close: () => new Promise((r) => server.close(() => r())) };
}

/** Answers like a PEP 691 server: JSON when the Accept header prefers it, HTML otherwise. */
const negotiating: Handler = (req, res) => {
  if (String(req.headers.accept).startsWith('application/vnd.pypi.simple.v1+json')) {
    res.writeHead(200, { 'Content-Type': 'application/vnd.pypi.simple.v1+json' }).end(JSON_BODY);
  } else {
    res.writeHead(200, { 'Content-Type': 'text/html' }).end(HTML);
  }
};

describe('SimpleIndexClient', () => {
  test('asks for PEP 691 JSON first and reads it', async () => {
    const s = await serve(negotiating);
    try {
      const page = await new SimpleIndexClient({ policy: FAST }).page(`${s.url}/cu121`, 'torch');
      expect(page).toEqual({
        url: `${s.url}/cu121/torch/`,
        format: 'json',
        files: [{ filename: FILE, url: `${s.url}/cu121/torch/torch-2.2.2%2Bcu121-cp311-cp311-linux_x86_64.whl`, yanked: false }],
      });
      expect(s.seen).toEqual([{ path: '/whl/cu121/torch/', accept: ACCEPT_ANY }]);
    } finally {
      await s.close();
    }
  });

  test('falls back to the PEP 503 HTML page a server without JSON sends', async () => {
    const s = await serve((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(HTML));
    try {
      const page = await new SimpleIndexClient({ policy: FAST }).page(`${s.url}/cu121`, 'torch');
      expect(page?.format).toBe('html');
      expect(page?.files.map((f) => f.filename)).toEqual([FILE]);
    } finally {
      await s.close();
    }
  });

  test('asks again for HTML only when the server answers 406 to the JSON-preferring request', async () => {
    const s = await serve((req, res) => {
      if (String(req.headers.accept).includes('json')) res.writeHead(406).end();
      else res.writeHead(200, { 'Content-Type': 'application/vnd.pypi.simple.v1+html' }).end(HTML);
    });
    try {
      const page = await new SimpleIndexClient({ policy: FAST }).page(`${s.url}/cu121`, 'torch');
      expect(page?.format).toBe('html');
      expect(s.seen.map((r) => r.accept.includes('json'))).toEqual([true, false]);
    } finally {
      await s.close();
    }
  });

  test('one request per page for the run, however often and however concurrently it is asked', async () => {
    const s = await serve(negotiating);
    try {
      const client = new SimpleIndexClient({ policy: FAST });
      await Promise.all([client.page(`${s.url}/cu121`, 'torch'), client.page(`${s.url}/cu121/`, 'Torch'), client.page(`${s.url}/cu121`, 'torch')]);
      await client.page(`${s.url}/cu121`, 'torch');
      expect(s.seen).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  test('404 is "no such page", not a failure', async () => {
    const s = await serve((_req, res) => res.writeHead(404).end('not found'));
    try {
      await expect(new SimpleIndexClient({ policy: FAST }).page(`${s.url}/cu999`, 'torch')).resolves.toBeNull();
    } finally {
      await s.close();
    }
  });

  test.each([
    { name: '503 twice, then the page', fault: (res: http.ServerResponse) => res.writeHead(503).end() },
    { name: '429 with Retry-After, then the page', fault: (res: http.ServerResponse) => res.writeHead(429, { 'Retry-After': '0' }).end() },
    { name: 'a reset connection, then the page', fault: (res: http.ServerResponse) => res.socket?.destroy() },
  ])('retried: $name', async ({ fault }) => {
    const s = await serve((req, res, n) => (n <= 2 ? fault(res) : negotiating(req, res, n)));
    const retries: string[] = [];
    try {
      const page = await new SimpleIndexClient({ policy: FAST, log: (l) => retries.push(l) }).page(`${s.url}/cu121`, 'torch');
      expect(page?.files).toHaveLength(1);
      expect(s.seen).toHaveLength(3);
      expect(retries).toHaveLength(2);
      expect(retries[0]).toMatch(/cu121\/torch\/: .*; trying again in /);
    } finally {
      await s.close();
    }
  });

  test('a redirect is followed', async () => {
    const s = await serve((req, res, n) =>
      req.url === '/whl/cu121/torch/' ? res.writeHead(301, { Location: '/mirror/cu121/torch/' }).end() : negotiating(req, res, n),
    );
    try {
      const page = await new SimpleIndexClient({ policy: FAST }).page(`${s.url}/cu121`, 'torch');
      expect(page?.files[0].url).toContain('/mirror/cu121/torch/torch-2.2.2');
    } finally {
      await s.close();
    }
  });

  test('still failing after the retries: IndexUnavailable with the cause', async () => {
    const s = await serve((_req, res) => res.writeHead(502).end());
    try {
      const e = await new SimpleIndexClient({ policy: FAST }).page(`${s.url}/cu121`, 'torch').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(IndexUnavailable);
      expect((e as Error).message).toBe(`${s.url}/cu121/torch/: HTTP 502 after 3 tries`);
      expect(s.seen).toHaveLength(3);
    } finally {
      await s.close();
    }
  });

  test('an unreadable page is an unavailable index (the table takes over), not a crash', async () => {
    const s = await serve((_req, res) => res.writeHead(200, { 'Content-Type': 'application/vnd.pypi.simple.v1+json' }).end('{"meta":{"api-version":"3.0"}}'));
    try {
      await expect(new SimpleIndexClient({ policy: FAST }).page(`${s.url}/cu121`, 'torch')).rejects.toThrow(
        /unreadable application\/vnd.pypi.simple.v1\+json page: not a PEP 691 page/,
      );
    } finally {
      await s.close();
    }
  });

  test("a closed port: IndexUnavailable, and the host's other pages fail at once without another try", async () => {
    const s = await serve(negotiating);
    const url = s.url;
    await s.close();
    const client = new SimpleIndexClient({ policy: FAST });
    await expect(client.page(`${url}/cu121`, 'torch')).rejects.toThrow(/ECONNREFUSED/);
    const t0 = Date.now();
    await expect(client.page(`${url}/cpu`, 'torchaudio')).rejects.toThrow(/did not answer before/);
    expect(Date.now() - t0).toBeLessThan(50);
    expect(client.requests.map((r) => r.status)).toEqual(['ECONNREFUSED']);
  });
});
