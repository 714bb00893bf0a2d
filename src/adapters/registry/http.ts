import { HttpClient } from '@actions/http-client';
import * as http from 'http';
import * as https from 'https';
import type { Readable } from 'stream';

/**
 * One HTTP exchange with a registry, and nothing more: no retries, no auth (client.ts does both).
 *
 * Requests go through node's http/https with the agent @actions/http-client picks for the URL,
 * so HTTPS_PROXY / HTTP_PROXY / NO_PROXY are honoured as in the rest of the actions toolkit, and
 * NODE_EXTRA_CA_CERTS (read by node itself) adds certificate authorities. The toolkit's own
 * request method is not used because a multi-gigabyte upload needs what it lacks: a connect
 * timeout, abort by signal, and `Expect: 100-continue`, so that a refused upload costs no bytes
 * and can be sent again.
 */
export interface StreamBody {
  /** Read once: a request that sent any of it cannot be repeated. */
  stream: Readable;
  /** Content-Length when known; chunked otherwise. */
  length?: number;
}

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer | StreamBody;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  signal?: AbortSignal;
  /** Largest response body kept; longer bodies are cut (error bodies and manifests are small). */
  maxResponseBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Whether any byte of a stream body was handed to the connection. */
  bodySent: boolean;
}

/** A transport failure: no complete response. `code` is node's (ECONNRESET, ETIMEDOUT, ...). */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly bodySent: boolean,
    /** What went wrong, without the request's name (callers name the request their own way). */
    readonly reason = message,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/** How long a client waits for `100 Continue` before it sends the body anyway (RFC 9110 lets it). */
const CONTINUE_WAIT_MS = 2000;

const toolkit = new HttpClient('ml-image-build', [], { keepAlive: true, allowRetries: false, allowRedirects: false });

export function agentFor(url: URL): http.Agent {
  return toolkit.getAgent(url.toString());
}

export function send(req: HttpRequest): Promise<HttpResponse> {
  const mod = req.url.protocol === 'https:' ? https : http;
  const body = req.body;
  const isStream = body !== undefined && !Buffer.isBuffer(body);
  const headers: Record<string, string> = { 'User-Agent': 'ml-image-build', ...req.headers };
  if (Buffer.isBuffer(body)) headers['Content-Length'] = String(body.length);
  if (isStream) {
    if (body.length !== undefined) headers['Content-Length'] = String(body.length);
    headers.Expect = '100-continue';
  }
  if (!body && ['PUT', 'POST', 'PATCH'].includes(req.method)) headers['Content-Length'] = '0';

  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    let bodySent = false;
    let connectTimer: NodeJS.Timeout | undefined;
    let continueTimer: NodeJS.Timeout | undefined;
    const what = `${req.method} ${req.url.host}${req.url.pathname}`;
    const fail = (code: string, message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(continueTimer);
      reject(new TransportError(`${what}: ${message}`, code, bodySent, message));
    };

    const r = mod.request(req.url, { method: req.method, headers, agent: agentFor(req.url), signal: req.signal });
    r.on('socket', (socket) => {
      if (!socket.connecting) return;
      connectTimer = setTimeout(
        () => r.destroy(Object.assign(new Error(`no connection within ${req.connectTimeoutMs / 1000}s`), { code: 'ETIMEDOUT' })),
        req.connectTimeoutMs,
      );
      socket.once(req.url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    });
    r.setTimeout(req.idleTimeoutMs, () =>
      r.destroy(Object.assign(new Error(`no data sent or received for ${req.idleTimeoutMs / 1000}s`), { code: 'ETIMEDOUT' })),
    );
    r.on('error', (e: NodeJS.ErrnoException) => {
      if (e.name === 'AbortError') fail('ABORTED', 'cancelled');
      else fail(e.code ?? 'EUNKNOWN', e.message);
    });

    let started = false;
    const startBody = () => {
      if (started || settled || !isStream) return;
      started = true;
      clearTimeout(continueTimer);
      bodySent = true;
      const source = body.stream;
      source.on('error', (e) => r.destroy(e));
      // A source torn down without an end (its producer failed) must not leave the request open.
      source.on('close', () => {
        if (!source.readableEnded) r.destroy(Object.assign(new Error('the upload source stopped before its end'), { code: 'ESOURCE' }));
      });
      source.pipe(r);
    };

    r.on('response', (res) => {
      clearTimeout(continueTimer);
      const chunks: Buffer[] = [];
      let kept = 0;
      const limit = req.maxResponseBytes ?? 8 * 1024 * 1024;
      res.on('data', (c: Buffer) => {
        if (kept < limit) {
          chunks.push(c);
          kept += c.length;
        }
      });
      res.on('error', (e: NodeJS.ErrnoException) => fail(e.code ?? 'ECONNRESET', e.message));
      res.on('aborted', () => fail('ECONNRESET', 'response cut off'));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        // A body that was never sent leaves the connection unusable for the next request.
        if (isStream && !started) r.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), bodySent });
      });
    });

    if (isStream) {
      r.on('continue', startBody);
      r.flushHeaders();
      continueTimer = setTimeout(startBody, CONTINUE_WAIT_MS);
    } else {
      r.end(body);
    }
  });
}
