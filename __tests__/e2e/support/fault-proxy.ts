import * as http from 'http';
import type { Socket } from 'net';

/**
 * A fault-injecting reverse proxy for the registry HTTP API (Distribution v2), for end-to-end tests
 * of the registry client's retry and resume logic against a real registry.
 *
 * It forwards plain HTTP to one upstream registry (and `/token…` to an optional token issuer),
 * streaming both bodies, keeping the client's `Host` header so the registry's absolute `Location`
 * URLs point back at the proxy. Rules pick requests by kind (and reference) and answer them with a
 * fault instead, or forward them in a damaged way.
 *
 * Typical use with a token registry whose realm must sit on the same host as the registry (the
 * client only sends Basic credentials over HTTP to the registry's own host):
 *
 *   const proxy = await new FaultProxy({ upstream: '' }).start(); // answers 502 until setUpstream
 *   const reg = await startTokenRegistry({ realmBase: `http://${proxy.host}` });
 *   proxy.setUpstream(reg.host, reg.issuerUrl);
 */

export type RequestKind =
  | 'ping'
  | 'token'
  | 'blob-head'
  | 'blob-get'
  | 'blob-post'
  | 'blob-patch'
  | 'blob-put'
  | 'blob-mount'
  | 'manifest-head'
  | 'manifest-get'
  | 'manifest-put-digest'
  | 'tag-put'
  | 'tags-list'
  | 'other';

export type Fault =
  /** Answer this status without contacting upstream (body: a Distribution-style JSON error by default). */
  | { type: 'status'; status: number; retryAfter?: string; body?: string }
  /** Destroy the client socket before any response byte. */
  | { type: 'reset' }
  /** Forward, but once `afterBytes` bytes of the request body went upstream, destroy both sockets. */
  | { type: 'reset-mid-body'; afterBytes: number }
  /** Read the request, never answer; the socket stays open until the client gives up or stop(). */
  | { type: 'silence' }
  /** Forward normally after a delay. */
  | { type: 'delay'; ms: number }
  /** Forward, pacing the request body to this rate. */
  | { type: 'throttle'; bytesPerSecond: number };

export interface Rule {
  kind: RequestKind;
  /** Only for tag-put / manifest-*: match this reference (tag or digest) only. */
  tag?: string;
  /** Let this many matching requests through first (default 0). */
  skip?: number;
  /** How many requests get the fault after the skipped ones. */
  times: number | 'always';
  fault: Fault;
}

export interface LoggedRequest {
  method: string;
  /** The request path, without the query string. */
  path: string;
  /** The query string without '?', '' if none. */
  query: string;
  kind: RequestKind;
  /** Repository name, for /v2/<name>/… requests. */
  repo?: string;
  /** Blob digest, manifest reference (tag or digest) or upload ID. */
  ref?: string;
  /** Status the client got; undefined when it got none (reset, silence, still in flight). */
  status?: number;
  /** The fault applied, if any. */
  fault?: Fault['type'];
  /** Date.now() when the request head arrived. */
  at: number;
}

export interface Classified {
  kind: RequestKind;
  repo?: string;
  ref?: string;
}

const UPLOADS = /^\/v2\/(.+)\/blobs\/uploads\/?$/;
const UPLOAD = /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/;
const BLOB = /^\/v2\/(.+)\/blobs\/([^/]+)$/;
const MANIFEST = /^\/v2\/(.+)\/manifests\/([^/]+)$/;
const TAGS = /^\/v2\/(.+)\/tags\/list$/;

/** What a request is, by method and path (Distribution API v2). */
export function classify(method: string, url: string): Classified {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const m = method.toUpperCase();
  if (path === '/v2' || path === '/v2/') return { kind: 'ping' };
  if (path === '/token' || path.startsWith('/token/')) return { kind: 'token' };
  let g: RegExpMatchArray | null;
  if ((g = path.match(UPLOADS))) {
    if (m === 'POST') return { kind: query.has('mount') ? 'blob-mount' : 'blob-post', repo: g[1], ref: query.get('mount') ?? undefined };
    return { kind: 'other', repo: g[1] };
  }
  if ((g = path.match(UPLOAD))) {
    if (m === 'PATCH') return { kind: 'blob-patch', repo: g[1], ref: g[2] };
    if (m === 'PUT') return { kind: 'blob-put', repo: g[1], ref: g[2] };
    return { kind: 'other', repo: g[1], ref: g[2] };
  }
  if ((g = path.match(BLOB))) {
    if (m === 'HEAD') return { kind: 'blob-head', repo: g[1], ref: g[2] };
    if (m === 'GET') return { kind: 'blob-get', repo: g[1], ref: g[2] };
    return { kind: 'other', repo: g[1], ref: g[2] };
  }
  if ((g = path.match(MANIFEST))) {
    const ref = decodeURIComponent(g[2]);
    if (m === 'HEAD') return { kind: 'manifest-head', repo: g[1], ref };
    if (m === 'GET') return { kind: 'manifest-get', repo: g[1], ref };
    if (m === 'PUT') return { kind: ref.startsWith('sha256:') ? 'manifest-put-digest' : 'tag-put', repo: g[1], ref };
    return { kind: 'other', repo: g[1], ref };
  }
  if ((g = path.match(TAGS)) && m === 'GET') return { kind: 'tags-list', repo: g[1] };
  return { kind: 'other' };
}

/** Headers that describe one connection and must not be passed on. `expect` is answered here. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect']);

function passHeaders(h: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

const ERROR_CODES: Record<number, string> = {
  400: 'BLOB_UPLOAD_INVALID',
  401: 'UNAUTHORIZED',
  403: 'DENIED',
  404: 'NAME_UNKNOWN',
  416: 'BLOB_UPLOAD_INVALID',
  429: 'TOOMANYREQUESTS',
};

function defaultErrorBody(status: number): string {
  const code = ERROR_CODES[status] ?? (status >= 500 ? 'UNAVAILABLE' : 'UNKNOWN');
  return JSON.stringify({ errors: [{ code, message: `injected fault: HTTP ${status}`, detail: null }] });
}

function requestHasBody(req: http.IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0');
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves on 'drain'; rejects if the stream closes or fails first. */
function drained(w: http.ClientRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      w.off('drain', onDrain);
      w.off('close', onClose);
      w.off('error', done);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('upstream request closed'));
    w.on('drain', onDrain);
    w.on('close', onClose);
    w.on('error', done);
  });
}

class Injected extends Error {}

interface RuleState {
  rule: Rule;
  seen: number;
  used: number;
}

export class FaultProxy {
  /** 'host:port' of the registry. May be changed while running (see setUpstream). */
  upstream: string;
  /** 'http://127.0.0.1:PORT' of a token issuer: requests to /token… go there. */
  tokenUpstream?: string;
  readonly log: LoggedRequest[] = [];

  private rules: RuleState[] = [];
  private server?: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly agent = new http.Agent({ keepAlive: true });
  private port = 0;

  constructor(opts: { upstream: string; tokenUpstream?: string }) {
    this.upstream = opts.upstream;
    this.tokenUpstream = opts.tokenUpstream;
  }

  /** '127.0.0.1:PORT' after start(). */
  get host(): string {
    if (!this.port) throw new Error('FaultProxy: not started');
    return `127.0.0.1:${this.port}`;
  }

  /** Points the proxy at another registry (and token issuer), e.g. one started after the proxy. */
  setUpstream(upstream: string, tokenUpstream?: string): void {
    this.upstream = upstream;
    this.tokenUpstream = tokenUpstream;
  }

  start(): Promise<this> {
    const server = http.createServer({ keepAlive: true });
    // Multi-GB uploads through a throttle may take long; the client decides when to give up.
    server.requestTimeout = 0;
    server.keepAliveTimeout = 30_000;
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res, false));
    // With this listener Node no longer answers `Expect: 100-continue` by itself: handle() decides.
    server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res, true));
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('clientError', (_err, socket: Socket) => socket.destroy());
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const addr = server.address();
        if (addr && typeof addr === 'object') this.port = addr.port;
        resolve(this);
      });
    });
  }

  /**
   * Replaces the rules and resets their counters. For each request, rules are tried in order; every
   * rule whose kind (and tag) match counts the request; the first one past its `skip` with `times`
   * left applies its fault, and no later rule sees that request.
   */
  setRules(rules: Rule[]): void {
    this.rules = rules.map((rule) => ({ rule, seen: 0, used: 0 }));
  }

  clearLog(): void {
    this.log.length = 0;
  }

  /** Requests seen of that kind (and reference), faulted or not. */
  count(kind: RequestKind, ref?: string): number {
    return this.log.filter((l) => l.kind === kind && (ref === undefined || l.ref === ref)).length;
  }

  /** Closes the server and every socket, silenced ones included. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const server = this.server;
    this.server = undefined;
    if (server) {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      for (const s of this.sockets) s.destroy();
      await closed;
    }
    this.agent.destroy();
  }

  private pick(c: Classified): RuleState | undefined {
    for (const st of this.rules) {
      const r = st.rule;
      if (r.kind !== c.kind) continue;
      if (r.tag !== undefined && r.tag !== c.ref) continue;
      st.seen++;
      if (st.seen <= (r.skip ?? 0)) continue;
      if (r.times !== 'always' && st.used >= r.times) continue;
      st.used++;
      return st;
    }
    return undefined;
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, expectsContinue: boolean): void {
    const url = req.url ?? '/';
    const socket = req.socket;
    const q = url.indexOf('?');
    const c = classify(req.method ?? 'GET', url);
    const entry: LoggedRequest = {
      method: req.method ?? 'GET',
      path: q < 0 ? url : url.slice(0, q),
      query: q < 0 ? '' : url.slice(q + 1),
      kind: c.kind,
      at: Date.now(),
    };
    if (c.repo !== undefined) entry.repo = c.repo;
    if (c.ref !== undefined) entry.ref = c.ref;
    this.log.push(entry);
    req.on('error', () => {});
    res.on('error', () => {});

    const picked = this.pick(c);
    const fault = picked?.rule.fault;
    if (fault) entry.fault = fault.type;
    switch (fault?.type) {
      case undefined:
        return this.forward(req, res, entry, expectsContinue, {});
      case 'status':
        return this.answerStatus(req, res, entry, expectsContinue, fault);
      case 'reset':
        socket.destroy();
        return;
      case 'silence':
        // Read what the client sends (nothing, for a request still waiting for 100 Continue).
        if (!expectsContinue) req.resume();
        return;
      case 'delay':
        return this.later(fault.ms, () => {
          if (!socket.destroyed) this.forward(req, res, entry, expectsContinue, {});
        });
      case 'throttle':
        return this.forward(req, res, entry, expectsContinue, { bytesPerSecond: fault.bytesPerSecond });
      case 'reset-mid-body':
        // A body shorter than afterBytes is not cut, and does not use up the rule: the next long one is.
        return this.forward(req, res, entry, expectsContinue, { resetAfter: fault.afterBytes, onShort: () => picked && picked.used-- });
    }
  }

  private answerStatus(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    entry: LoggedRequest,
    expectsContinue: boolean,
    f: Extract<Fault, { type: 'status' }>,
  ): void {
    const socket = req.socket;
    const answer = () => {
      if (res.writableEnded || socket.destroyed) return;
      const body = f.body ?? defaultErrorBody(f.status);
      const headers: http.OutgoingHttpHeaders = {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'docker-distribution-api-version': 'registry/2.0',
      };
      if (f.retryAfter !== undefined) headers['retry-after'] = f.retryAfter;
      // The client held its body back waiting for 100 Continue: end the connection with the answer,
      // so neither side has to guess whether the body still comes.
      if (expectsContinue) headers.connection = 'close';
      entry.status = f.status;
      res.writeHead(f.status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (!expectsContinue && requestHasBody(req)) {
      // Take the whole body first (discarding it), so the client sees a clean answer, not a write error.
      req.on('end', answer);
      req.resume();
    } else {
      answer();
    }
  }

  private forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    entry: LoggedRequest,
    expectsContinue: boolean,
    opts: { bytesPerSecond?: number; resetAfter?: number; onShort?: () => void },
  ): void {
    const socket = req.socket;
    let target: { hostname: string; port: number; pathPrefix: string };
    try {
      if (entry.kind === 'token' && this.tokenUpstream) {
        const u = new URL(this.tokenUpstream);
        target = { hostname: u.hostname, port: Number(u.port || 80), pathPrefix: u.pathname.replace(/\/$/, '') };
      } else {
        const i = this.upstream.lastIndexOf(':');
        target = { hostname: this.upstream.slice(0, i), port: Number(this.upstream.slice(i + 1)), pathPrefix: '' };
        if (i < 0 || !target.port) throw new Error(`FaultProxy: bad upstream '${this.upstream}'`);
      }
    } catch (e) {
      entry.status = 502;
      res.writeHead(502, { 'content-type': 'text/plain', connection: 'close' });
      res.end((e as Error).message);
      return;
    }

    let aborted = false;
    let bodyStarted = !expectsContinue;
    const up = http.request({
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: target.pathPrefix + (req.url ?? '/'),
      // Keeps the client's Host. `Expect: 100-continue` goes on upstream, so that, as with a
      // transparent proxy, the registry decides (after its auth check) whether the body may come.
      headers: { ...passHeaders(req.headers), ...(expectsContinue ? { expect: '100-continue' } : {}) },
      agent: expectsContinue ? false : this.agent,
    });
    up.on('response', (upRes: http.IncomingMessage) => {
      if (aborted) return upRes.destroy();
      entry.status = upRes.statusCode;
      const headers = passHeaders(upRes.headers);
      // Answered before the body was asked for: the client never sends it; close this connection.
      if (!bodyStarted) headers.connection = 'close';
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, headers);
      upRes.on('error', () => res.destroy());
      upRes.pipe(res);
      if (!bodyStarted) res.on('finish', () => up.destroy());
    });
    up.on('error', (err: Error) => {
      if (aborted) return;
      if (!res.headersSent) {
        entry.status = 502;
        res.writeHead(502, { 'content-type': 'text/plain', connection: 'close' });
        res.end(`FaultProxy: upstream error: ${err.message}`);
      } else {
        res.destroy();
      }
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });

    const startBody = () => {
      bodyStarted = true;
      this.pumpBody(req, up, socket, opts, () => (aborted = true));
    };
    if (expectsContinue) {
      up.on('continue', () => {
        res.writeContinue();
        startBody();
      });
      up.flushHeaders();
    } else {
      startBody();
    }
  }

  private pumpBody(
    req: http.IncomingMessage,
    up: http.ClientRequest,
    socket: Socket,
    opts: { bytesPerSecond?: number; resetAfter?: number; onShort?: () => void },
    abort: () => void,
  ): void {
    this.pump(req, up, opts).then(
      () => up.end(),
      (err: unknown) => {
        if (err instanceof Injected) {
          abort();
          up.destroy();
          socket.destroy();
        } else {
          // The client went away mid-body (or upstream failed): drop the upstream request too.
          up.destroy();
        }
      },
    );
  }

  /** Copies the request body upstream with backpressure, optionally paced or cut off. */
  private async pump(
    src: http.IncomingMessage,
    dst: http.ClientRequest,
    opts: { bytesPerSecond?: number; resetAfter?: number; onShort?: () => void },
  ): Promise<void> {
    const rate = opts.bytesPerSecond;
    const slice = rate ? Math.max(1, Math.floor(rate / 20)) : Infinity; // ~50 ms worth per write when throttled
    const t0 = Date.now();
    let sent = 0;
    if (opts.resetAfter === 0 && !requestHasBody(src)) return;
    for await (const c of src) {
      let chunk = c as Buffer;
      while (chunk.length > 0) {
        let piece = chunk.length > slice ? chunk.subarray(0, slice) : chunk;
        const cut = opts.resetAfter !== undefined && sent + piece.length >= opts.resetAfter;
        if (cut) piece = piece.subarray(0, (opts.resetAfter ?? 0) - sent);
        if (cut) {
          if (piece.length > 0) await new Promise<void>((r) => dst.write(piece, () => r()));
          throw new Injected('reset-mid-body');
        }
        if (!dst.write(piece)) await drained(dst);
        sent += piece.length;
        chunk = chunk.subarray(piece.length);
        if (rate) {
          const wait = t0 + (sent * 1000) / rate - Date.now();
          if (wait > 0) await sleep(wait);
        }
      }
    }
    if (opts.resetAfter !== undefined) opts.onShort?.();
  }
}
