import { getWithRetry } from './http';
import { TransportError } from './registry/http';
import type { RetryPolicy } from './registry/retry';
import { IndexUnavailable, JSON_TYPE, normalizeName, parseHtmlPage, parseJsonPage, type IndexPage, type PageSource } from '../plan/wheel-index';

/**
 * A PyTorch-style "simple" index over HTTP: BASE/<variant>/<project>/. Each page is asked once a
 * run (the answer, or the failure, is kept), in PEP 691 JSON where the server speaks it and PEP 503
 * HTML otherwise: one request whose Accept header prefers JSON and takes HTML (what pip sends), and
 * a second, HTML-only one if the server answers 406. Once a host has failed after its retries, its
 * other pages fail at once: an offline runner pays the retries one time, not once per page.
 */

/** Shorter than the registry's: a plan waiting on a dead index should fall back in seconds. */
export const INDEX_POLICY: RetryPolicy = {
  attempts: 3,
  baseDelayMs: 500,
  maxDelayMs: 5000,
  maxRetryAfterMs: 10_000,
  budgetMs: 30_000,
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  completeTimeoutMs: 30_000,
};

/** PEP 691's recommended client header: JSON preferred, HTML accepted. */
export const ACCEPT_ANY = `${JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01`;
const ACCEPT_HTML = 'application/vnd.pypi.simple.v1+html, text/html;q=0.01';

export interface SimpleIndexOptions {
  policy?: RetryPolicy;
  signal?: AbortSignal;
  /** Retries and formats, for the log. */
  log?: (line: string) => void;
}

export class SimpleIndexClient implements PageSource {
  private readonly pages = new Map<string, Promise<IndexPage | null>>();
  private readonly down = new Map<string, IndexUnavailable>();
  /** Every request sent, in order (the tests and the log read it). */
  readonly requests: Array<{ url: string; accept: string; status: number | string }> = [];

  constructor(private readonly opts: SimpleIndexOptions = {}) {}

  page(variantIndexUrl: string, project: string): Promise<IndexPage | null> {
    const url = `${variantIndexUrl.replace(/\/+$/, '')}/${normalizeName(project)}/`;
    let p = this.pages.get(url);
    if (!p) {
      p = this.fetch(url);
      this.pages.set(url, p);
    }
    return p;
  }

  private async fetch(url: string): Promise<IndexPage | null> {
    const origin = new URL(url).origin;
    const dead = this.down.get(origin);
    if (dead) throw new IndexUnavailable(url, `${origin} did not answer before (${dead.reason})`);
    try {
      let r = await this.get(url, ACCEPT_ANY);
      if (r.status === 406) r = await this.get(url, ACCEPT_HTML);
      if (r.status === 404 || r.status === 410) return null;
      if (r.status !== 200) throw new IndexUnavailable(url, `HTTP ${r.status}${r.attempts > 1 ? ` after ${r.attempts} tries` : ''}`);
      const type = String(r.headers['content-type'] ?? '')
        .split(';')[0]
        .trim()
        .toLowerCase();
      const text = r.body.toString('utf8');
      const pageUrl = r.url.toString();
      try {
        return type === JSON_TYPE ? { url, format: 'json', files: parseJsonPage(text, pageUrl) } : { url, format: 'html', files: parseHtmlPage(text, pageUrl) };
      } catch (e) {
        throw new IndexUnavailable(url, `unreadable ${type || 'untyped'} page: ${(e as Error).message}`);
      }
    } catch (e) {
      // A cancelled run is not an unreachable index: no fallback, the run unwinds.
      if (this.opts.signal?.aborted) throw e;
      const failure = e instanceof IndexUnavailable ? e : e instanceof TransportError ? new IndexUnavailable(url, `${e.reason} (${e.code})`) : undefined;
      if (!failure) throw e;
      if (!(e instanceof IndexUnavailable && /^HTTP 4/.test(e.reason))) this.down.set(origin, failure);
      throw failure;
    }
  }

  private async get(url: string, accept: string) {
    try {
      const r = await getWithRetry(new URL(url), {
        headers: { Accept: accept },
        policy: this.opts.policy ?? INDEX_POLICY,
        signal: this.opts.signal,
        onRetry: (what, ms) => this.opts.log?.(`${url}: ${what}; trying again in ${(ms / 1000).toFixed(1)}s`),
      });
      this.requests.push({ url, accept, status: r.status });
      return r;
    } catch (e) {
      this.requests.push({ url, accept, status: e instanceof TransportError ? e.code : 'error' });
      throw e;
    }
  }
}
