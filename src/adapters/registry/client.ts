import * as crypto from 'crypto';
import { basicHeader, mayShareCredentials, parseChallenge, refreshMarginMs, scopesFor, tokenAnswer, tokenUrl, type Challenge, type Credentials } from './auth';
import { send, TransportError, type HttpResponse, type StreamBody } from './http';
import { DEFAULT_POLICY, nextDelay, type Outcome, type RetryPolicy } from './retry';

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
};
const ACCEPT_MANIFESTS = [MEDIA.dockerManifest, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.ociIndex].join(', ');

/**
 * A registry request that failed for good. The message names the request (what was being done,
 * method, registry and path), the status and the registry's own error, and how many tries it took.
 */
export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    /** The body of a stream upload was spent: only the caller can start that upload over. */
    readonly sourceSpent = false,
    /** The registry or its token endpoint refused the credentials (401/403). */
    readonly credentials = false,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  body: Buffer;
  /** The parsed body: the fields the action reads are typed, and none of them is promised to be there. */
  json: ManifestJson;
  /** The registry's ETag, for a conditional PUT back of the same reference. */
  etag?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

/** One entry of an image index or manifest list. */
export interface IndexEntry extends Descriptor {
  platform?: { os?: string; architecture?: string; variant?: string };
  artifactType?: string;
  annotations?: Record<string, string>;
}

/**
 * A manifest, manifest list or index as a registry returns it. A registry answer is not trusted
 * to have any field: readers check before they use one.
 */
export interface ManifestJson {
  schemaVersion?: number;
  mediaType?: string;
  artifactType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: IndexEntry[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** A descriptor in a referrers list: what a manifest whose `subject` is the listed digest declares itself to be. */
export interface ReferrerDescriptor extends Descriptor {
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface ManifestWrite {
  /** The digest the registry stored the manifest as. */
  digest: string;
  /**
   * The `OCI-Subject` answer header: a registry that keeps referrers lists itself names the
   * subject it filed the manifest under (OCI distribution 1.1). Absent elsewhere.
   */
  subject?: string;
}

export interface ClientOptions {
  /** Registry host as in the image name (`ghcr.io`, `127.0.0.1:5000`, `docker.io`). */
  registry: string;
  repository: string;
  credentials?: Credentials;
  policy?: RetryPolicy;
  /** Repositories of the same registry blobs may be mounted from: their pull scope is asked for too. */
  mountFrom?: string[];
  signal?: AbortSignal;
  /** Where retries are told. */
  log?: (s: string) => void;
}

interface Op {
  method: string;
  /** Relative to /v2/REPOSITORY/, or an absolute URL (upload locations). */
  path: string | URL;
  headers?: Record<string, string>;
  /** A buffer can be sent again; a stream body only until its first byte went out. */
  body?: Buffer | StreamBody;
  /** Human words for errors and retry lines: "upload of layer 2/5 (sha256:ab12…)". */
  what: string;
  ok: number[];
  /** Statuses returned to the caller as they are, without retry (404 on a HEAD, say). */
  accept?: number[];
  /** This request finishes a blob upload: allow the long wait while the registry checks the blob. */
  completes?: boolean;
}

export const short = (d: string) => (d.startsWith('sha256:') ? `${d.slice(0, 19)}…` : d);
const WAIT_NOTICE_MS = 30_000;
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)}s`;

/** The registry's JSON error (`{"errors":[{"code","message"}]}`) or the start of the body. */
export function registryMessage(body: Buffer): string {
  const text = body.toString('utf8');
  try {
    const j = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string; detail?: unknown }> };
    if (Array.isArray(j.errors) && j.errors.length) {
      return j.errors
        .map((e) => [e.code, e.message].filter(Boolean).join(': '))
        .join('; ')
        .slice(0, 300);
    }
  } catch {
    // not JSON
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

function describe(o: Outcome, res?: HttpResponse): string {
  if ('error' in o) return o.error;
  const m = res ? registryMessage(res.body) : '';
  return `HTTP ${o.status}${m ? ` (${m})` : ''}`;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new RegistryError('cancelled'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new RegistryError('cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * A client of the registry API (distribution spec) for what `docker push` cannot do: push by
 * digest without a tag, read and write manifests, move tags as one step. Every request has a
 * connect and an idle timeout and is retried with backoff on transport errors, 408, 429 and 5xx
 * (honouring Retry-After); a 401 fetches a fresh token once.
 */
export class RegistryClient {
  readonly registry: string;
  readonly repository: string;
  readonly baseUrl: URL;
  private authHeader?: string;
  /** The Bearer challenge the token came from, when it expires, and how long it lived. */
  private bearer?: { challenge: Challenge; expiresAt: number; lifetimeMs: number };
  private readonly policy: RetryPolicy;
  private readonly log: (s: string) => void;

  constructor(private readonly opts: ClientOptions) {
    this.registry = opts.registry;
    this.repository = opts.repository;
    this.policy = opts.policy ?? DEFAULT_POLICY;
    this.log = opts.log ?? (() => {});
    const h = opts.registry === 'docker.io' ? 'registry-1.docker.io' : opts.registry;
    // Docker speaks plain HTTP to loopback registries and HTTPS to every other.
    const plain = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(h);
    this.baseUrl = new URL(`${plain ? 'http' : 'https'}://${h}`);
  }

  get name(): string {
    return `${this.registry}/${this.repository}`;
  }

  /**
   * The same client, deaf to cancellation, for the few small requests that must finish once
   * started: moving tags and putting them back. A cancel in the middle of them would leave the
   * tags split.
   */
  uncancellable(): RegistryClient {
    const c = new RegistryClient({ ...this.opts, signal: undefined });
    c.authHeader = this.authHeader;
    c.bearer = this.bearer;
    return c;
  }

  private url(path: string | URL): URL {
    return path instanceof URL ? path : new URL(`/v2/${this.repository}/${path}`, this.baseUrl);
  }

  /** Runs one request with timeouts, retries and auth. Returns responses with an `ok` or `accept` status. */
  private async request(op: Op): Promise<HttpResponse> {
    const started = Date.now();
    let attempt = 1;
    let reauthed = false;
    let url = this.url(op.path);
    for (;;) {
      // A token about to expire is renewed before the request rather than refused in its middle.
      if (this.bearer && this.bearer.expiresAt - Date.now() < refreshMarginMs(this.bearer.lifetimeMs)) await this.authenticate(this.bearer.challenge);
      let res: HttpResponse | undefined;
      let outcome: Outcome;
      // A registry checking a big blob may be quiet for a while: say so, rather than look hung.
      const waitStarted = Date.now();
      const waiting = op.completes
        ? setInterval(() => this.log(`${op.what}: waiting for ${this.registry} to answer (${Math.round((Date.now() - waitStarted) / 1000)}s)`), WAIT_NOTICE_MS)
        : undefined;
      try {
        res = await send({
          method: op.method,
          url,
          headers: { ...op.headers, ...(this.authHeader && url.host === this.baseUrl.host ? { Authorization: this.authHeader } : {}) },
          body: op.body,
          connectTimeoutMs: this.policy.connectTimeoutMs,
          idleTimeoutMs: op.completes ? this.policy.completeTimeoutMs : this.policy.idleTimeoutMs,
          signal: this.opts.signal,
        });
      } catch (e) {
        clearInterval(waiting);
        if (!(e instanceof TransportError)) throw e;
        if (e.code === 'ABORTED') throw new RegistryError(`${op.what}: cancelled`);
        if (e.bodySent)
          throw new RegistryError(`${op.what}: ${op.method} ${this.registry}${url.pathname}: ${e.reason} (${e.code}) during the upload`, undefined, true);
        outcome = { error: e.code };
        const delay = nextDelay(attempt, outcome, this.policy, Date.now() - started, Date.now());
        if (delay === undefined)
          throw new RegistryError(
            `${op.what}: ${op.method} ${this.registry}${url.pathname} failed: ${e.reason} (${e.code}), ${attempt} ${attempt === 1 ? 'try' : 'tries'} over ${seconds(started)}`,
          );
        this.log(`${op.what}: ${e.code} from ${this.registry}; try ${attempt + 1} of ${this.policy.attempts} in ${(delay / 1000).toFixed(1)}s`);
        await sleep(delay, this.opts.signal);
        attempt++;
        continue;
      }
      clearInterval(waiting);

      if (res.status === 401 && !reauthed) {
        const challenge = parseChallenge(headerOf(res, 'www-authenticate'));
        if (challenge) {
          reauthed = true;
          await this.authenticate(challenge);
          if (res.bodySent) throw new RegistryError(`${op.what}: the registry asked for a new login during the upload`, 401, true);
          continue;
        }
      }
      if ([301, 302, 303, 307, 308].includes(res.status) && ['GET', 'HEAD'].includes(op.method) && headerOf(res, 'location')) {
        // Blob downloads are redirected to storage; the token stays with the registry's host.
        url = new URL(headerOf(res, 'location')!, url);
        continue;
      }
      if (op.ok.includes(res.status) || op.accept?.includes(res.status)) return res;
      outcome = { status: res.status, retryAfter: headerOf(res, 'retry-after') };
      const where = `${op.method} ${this.registry}${url.pathname}`;
      if (res.status === 401 || res.status === 403) {
        throw new RegistryError(`${op.what}: ${where} was refused: ${describe(outcome, res)}`, res.status, res.bodySent, true);
      }
      if (res.bodySent) throw new RegistryError(`${op.what}: ${where} answered ${describe(outcome, res)} after the upload`, res.status, true);
      const delay = nextDelay(attempt, outcome, this.policy, Date.now() - started, Date.now());
      if (delay === undefined) {
        throw new RegistryError(
          `${op.what}: ${where} answered ${describe(outcome, res)}${attempt > 1 ? `, ${attempt} tries over ${seconds(started)}` : ''}`,
          res.status,
        );
      }
      this.log(`${op.what}: HTTP ${res.status} from ${this.registry}; try ${attempt + 1} of ${this.policy.attempts} in ${(delay / 1000).toFixed(1)}s`);
      await sleep(delay, this.opts.signal);
      attempt++;
    }
  }

  /**
   * Answers a challenge: Basic takes the credentials as they are; Bearer asks the realm for a
   * token. A refusal there (401/403) blames the credentials; anything else names the endpoint.
   */
  private async authenticate(challenge: Challenge): Promise<void> {
    const creds = this.opts.credentials;
    if (challenge.scheme === 'basic') {
      if (!creds) throw new RegistryError(`registry ${this.registry} needs a login and no credentials were given`, 401, false, true);
      this.authHeader = basicHeader(creds);
      return;
    }
    if (challenge.scheme !== 'bearer')
      throw new RegistryError(
        `registry ${this.registry} asks for '${challenge.scheme}' authentication, which is not supported (Basic and Bearer are)`,
        401,
        false,
        true,
      );
    const url = tokenUrl(challenge, scopesFor(this.repository, this.opts.mountFrom ?? []));
    if (creds && !mayShareCredentials(this.baseUrl, url)) {
      throw new RegistryError(
        `registry ${this.registry} sends logins to ${url.origin}, another host, over plain HTTP; the credentials are not sent there in clear text`,
        undefined,
        false,
        true,
      );
    }
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      let outcome: Outcome;
      let res: HttpResponse | undefined;
      try {
        res = await send({
          method: 'GET',
          url,
          headers: creds ? { Authorization: basicHeader(creds) } : {},
          connectTimeoutMs: this.policy.connectTimeoutMs,
          idleTimeoutMs: this.policy.idleTimeoutMs,
          signal: this.opts.signal,
        });
        if (res.status === 200) {
          const answer = tokenAnswer(res.body.toString('utf8'));
          if (!answer) throw new RegistryError(`the token endpoint ${url.host}${url.pathname} of ${this.registry} answered without a token`);
          this.authHeader = `Bearer ${answer.token}`;
          const lifetimeMs = answer.expiresInSeconds * 1000;
          this.bearer = { challenge, expiresAt: started + lifetimeMs, lifetimeMs };
          return;
        }
        if (res.status === 401 || res.status === 403) {
          throw new RegistryError(
            `the token endpoint ${url.host}${url.pathname} of ${this.registry} refused ${creds ? `user '${creds.username}'` : 'anonymous access'}: ${describe({ status: res.status }, res)}`,
            res.status,
            false,
            true,
          );
        }
        outcome = { status: res.status, retryAfter: headerOf(res, 'retry-after') };
      } catch (e) {
        if (!(e instanceof TransportError)) throw e;
        if (e.code === 'ABORTED') throw new RegistryError('token request cancelled');
        outcome = { error: e.code };
      }
      const delay = nextDelay(attempt, outcome, this.policy, Date.now() - started, Date.now());
      const what = `token request to ${url.host}${url.pathname} for ${this.registry}`;
      if (delay === undefined)
        throw new RegistryError(
          `${what} failed: ${describe(outcome, res)}, ${attempt} ${attempt === 1 ? 'try' : 'tries'} (the token endpoint failed; this is not a credentials problem)`,
        );
      this.log(`${what}: ${describe(outcome)}; try ${attempt + 1} of ${this.policy.attempts} in ${(delay / 1000).toFixed(1)}s`);
      await sleep(delay, this.opts.signal);
    }
  }

  /**
   * Checks, before anything is built, that the credentials may push here: a token with push
   * scope is granted and an upload session can be opened (it is cancelled at once).
   */
  async checkPushAccess(): Promise<void> {
    const res = await this.request({ method: 'POST', path: 'blobs/uploads/', what: `opening a test upload in ${this.name}`, ok: [202] });
    const location = headerOf(res, 'location');
    if (location) {
      await this.request({
        method: 'DELETE',
        path: new URL(location, this.baseUrl),
        what: 'cancelling the test upload',
        ok: [204, 200, 202],
        accept: [400, 404, 405],
      }).catch(() => undefined);
    }
  }

  async blobExists(digest: string): Promise<number | undefined> {
    const res = await this.request({
      method: 'HEAD',
      path: `blobs/${digest}`,
      what: `checking for blob ${short(digest)} in ${this.name}`,
      ok: [200],
      accept: [404],
    });
    return res.status === 200 ? Number(headerOf(res, 'content-length') ?? 0) : undefined;
  }

  /** A blob read as JSON (an image config); the caller says what it expects and checks what it reads. */
  async blobJson<T = unknown>(digest: string): Promise<T> {
    const res = await this.request({ method: 'GET', path: `blobs/${digest}`, what: `reading blob ${short(digest)} of ${this.name}`, ok: [200] });
    return JSON.parse(res.body.toString('utf8')) as T;
  }

  /** Cross-repository mount: true when the registry linked the blob (201), false when it did not. */
  async mountBlob(digest: string, from: string): Promise<boolean> {
    const res = await this.request({
      method: 'POST',
      path: `blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      what: `mounting ${short(digest)} from ${from} into ${this.name}`,
      ok: [201, 202],
    });
    if (res.status === 201) return true;
    const location = headerOf(res, 'location');
    if (location)
      await this.request({
        method: 'DELETE',
        path: new URL(location, this.baseUrl),
        what: 'cancelling an unused upload',
        ok: [204, 200, 202],
        accept: [400, 404, 405],
      }).catch(() => undefined);
    return false;
  }

  private async startUpload(what: string): Promise<URL> {
    const res = await this.request({ method: 'POST', path: 'blobs/uploads/', what, ok: [202] });
    const location = headerOf(res, 'location');
    if (!location) throw new RegistryError(`${what}: POST ${this.registry}/v2/${this.repository}/blobs/uploads/ gave no upload location`);
    return new URL(location, this.baseUrl);
  }

  /** The blob may already be there: an earlier try finished but its answer was lost. */
  private async finishedAnyway(digest: string): Promise<boolean> {
    return (await this.blobExists(digest)) !== undefined;
  }

  /** Uploads a blob held in memory (configs, manifests' blobs, small layers): POST, then one PUT. */
  async putBlob(digest: string, data: Buffer, what: string): Promise<void> {
    for (let round = 1; ; round++) {
      const location = await this.startUpload(what);
      location.searchParams.set('digest', digest);
      try {
        await this.request({
          method: 'PUT',
          path: location,
          body: data,
          headers: { 'Content-Type': 'application/octet-stream' },
          what,
          ok: [201],
          completes: true,
        });
        return;
      } catch (e) {
        if (await this.finishedAnyway(digest)) return;
        if (round >= 2 || !(e instanceof RegistryError) || e.credentials) throw e;
      }
    }
  }

  /**
   * Uploads a blob whose digest and size are known from a stream (a compressed blob the engine
   * already holds): POST, then a PUT with the stream as body. Throws with `sourceSpent` when the
   * stream was partly sent and failed: the caller must read it again to retry.
   */
  async putBlobStream(digest: string, body: StreamBody, what: string): Promise<void> {
    const location = await this.startUpload(what);
    location.searchParams.set('digest', digest);
    try {
      await this.request({ method: 'PUT', path: location, body, headers: { 'Content-Type': 'application/octet-stream' }, what, ok: [201], completes: true });
    } catch (e) {
      if (e instanceof RegistryError && e.sourceSpent && (await this.finishedAnyway(digest).catch(() => false))) return;
      throw e;
    }
  }

  /**
   * Uploads a stream whose digest is only known at its end (a layer compressed on the way):
   * POST, one streamed PATCH (as docker push does: GHCR caps Content-Range chunks, not streams),
   * then PUT with the digest `digestOf()` gives once the stream has ended.
   */
  async pushStream(body: StreamBody, digestOf: () => string, what: string): Promise<void> {
    const location = await this.startUpload(what);
    const patched = await this.request({
      method: 'PATCH',
      path: location,
      body,
      headers: { 'Content-Type': 'application/octet-stream' },
      what,
      ok: [202, 204],
      completes: true,
    });
    const next = new URL(headerOf(patched, 'location') ?? location.toString(), this.baseUrl);
    const digest = digestOf();
    next.searchParams.set('digest', digest);
    try {
      await this.request({ method: 'PUT', path: next, what, ok: [201], completes: true });
    } catch (e) {
      if (await this.finishedAnyway(digest).catch(() => false)) return;
      throw e;
    }
  }

  /** A manifest by tag or digest; undefined when the registry does not have it. */
  async getManifest(reference: string): Promise<FetchedManifest | undefined> {
    const res = await this.request({
      method: 'GET',
      path: `manifests/${reference}`,
      headers: { Accept: ACCEPT_MANIFESTS },
      what: `reading ${this.name}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`,
      ok: [200],
      accept: [404],
    });
    if (res.status === 404) return undefined;
    const json = JSON.parse(res.body.toString('utf8')) as ManifestJson;
    const digest = sha256(res.body);
    const said = headerOf(res, 'docker-content-digest');
    if (said && said !== digest) throw new RegistryError(`${this.name}:${reference}: the registry says ${said}, the body hashes to ${digest}`);
    const etag = headerOf(res, 'etag');
    return { digest, mediaType: json.mediaType ?? headerOf(res, 'content-type') ?? '', body: res.body, json, ...(etag ? { etag } : {}) };
  }

  /** PUT of a manifest under a tag or its digest; returns the digest the registry stored it as. */
  async putManifest(reference: string, mediaType: string, body: Buffer, what?: string): Promise<string> {
    return (await this.writeManifest(reference, mediaType, body, { what })).digest;
  }

  /**
   * PUT of a manifest, with what the registry said besides the digest. `ifMatch` (an ETag from
   * getManifest) makes the write conditional where the registry supports it: a RegistryError with
   * status 412 then means someone else wrote the reference in between. Registries without
   * conditional writes (Distribution 2.8) ignore it.
   */
  async writeManifest(reference: string, mediaType: string, body: Buffer, opts: { what?: string; ifMatch?: string } = {}): Promise<ManifestWrite> {
    const res = await this.request({
      method: 'PUT',
      path: `manifests/${reference}`,
      body,
      headers: { 'Content-Type': mediaType, ...(opts.ifMatch ? { 'If-Match': opts.ifMatch } : {}) },
      what: opts.what ?? `writing ${this.name}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`,
      ok: [201, 200],
    });
    const subject = headerOf(res, 'oci-subject');
    return { digest: headerOf(res, 'docker-content-digest') ?? sha256(body), ...(subject ? { subject } : {}) };
  }

  /**
   * The referrers of a manifest from the registry's referrers API (OCI distribution 1.1,
   * `GET /v2/<name>/referrers/<digest>`), every page of it. Undefined when the registry has no
   * such API: the spec's signal is a 404; 400, 405 and 501 are taken the same way because
   * registries and proxies that predate the API answer an unknown route with them, and a 200
   * that is not an image index (a catch-all page) does not count as the API either.
   */
  async referrers(digest: string): Promise<ReferrerDescriptor[] | undefined> {
    const what = `listing the referrers of ${this.name}@${short(digest)}`;
    const out: ReferrerDescriptor[] = [];
    let path: string | URL = `referrers/${digest}`;
    for (let page = 1; ; page++) {
      const res = await this.request({ method: 'GET', path, headers: { Accept: MEDIA.ociIndex }, what, ok: [200], accept: [400, 404, 405, 501] });
      if (res.status !== 200) return undefined;
      let index: { mediaType?: string; manifests?: unknown } | undefined;
      try {
        index = JSON.parse(res.body.toString('utf8')) as { mediaType?: string; manifests?: unknown };
      } catch {
        index = undefined;
      }
      const contentType = (headerOf(res, 'content-type') ?? '').split(';')[0].trim();
      if (!index || !Array.isArray(index.manifests) || (contentType !== MEDIA.ociIndex && index.mediaType !== MEDIA.ociIndex)) return undefined;
      out.push(...(index.manifests as ReferrerDescriptor[]));
      const next = nextLink(headerOf(res, 'link'));
      if (!next) return out;
      // A registry that keeps sending the same page would otherwise hold the run forever.
      if (page >= MAX_REFERRER_PAGES) throw new RegistryError(`${what}: more than ${MAX_REFERRER_PAGES} pages, the registry keeps answering with a next page`);
      path = new URL(next, this.baseUrl);
    }
  }

  /**
   * Removes a tag (OCI distribution 1.1 `DELETE /manifests/<tag>`). Many registries do not
   * support it: false then, and the caller says the tag stayed.
   */
  async deleteTag(tag: string): Promise<boolean> {
    const res = await this.request({
      method: 'DELETE',
      path: `manifests/${tag}`,
      what: `removing tag ${this.name}:${tag}`,
      ok: [202, 200, 204],
      accept: [400, 404, 405, 501],
    });
    return [200, 202, 204].includes(res.status);
  }
}

const MAX_REFERRER_PAGES = 100;

/** The target of `rel="next"` in a Link header (RFC 8288), as registries paginate lists. */
export function nextLink(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!m) continue;
    const rel = m[2]
      .split(';')
      .map((p) => /^\s*rel\s*=\s*"?([^"]*)"?\s*$/i.exec(p)?.[1])
      .find((r) => r !== undefined);
    if (rel?.toLowerCase().split(/\s+/).includes('next')) return m[1];
  }
  return undefined;
}

function headerOf(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function sha256(data: Buffer | string): string {
  return `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;
}
