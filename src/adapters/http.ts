import { send, TransportError, type HttpResponse } from './registry/http';
import { nextDelay, type Outcome, type RetryPolicy } from './registry/retry';

/**
 * GET with the registry adapter's transport (proxy from HTTPS_PROXY / NO_PROXY, connect and idle
 * timeouts, abort by signal) and its pure retry policy: transport errors, 408, 429 (Retry-After
 * honoured, capped) and 5xx are tried again with backoff; any other answer is returned as it is.
 * Redirects are followed (a few hops), since a mirror may redirect `/cu121/torch` to `/cu121/torch/`
 * or to a CDN.
 */
export interface GetOptions {
  headers?: Record<string, string>;
  policy: RetryPolicy;
  signal?: AbortSignal;
  /** Largest body accepted; a longer one is an error, not a silently cut page. */
  maxBytes?: number;
  /** Told of each retry, for the log. */
  onRetry?: (what: string, delayMs: number) => void;
  /** The clock and sleep, injectable for tests. */
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface GetResult extends HttpResponse {
  /** The URL that answered, after redirects. */
  url: URL;
  attempts: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_HOPS = 5;

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(t);
      reject(new TransportError('cancelled', 'ABORTED', false));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** One URL, retried by the policy; throws TransportError (its last cause) when every try failed in transport. */
export async function getWithRetry(url: URL, opts: GetOptions): Promise<GetResult> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? defaultSleep;
  const limit = opts.maxBytes ?? 64 * 1024 * 1024;
  const start = now();
  let target = url;
  let hops = 0;
  for (let attempt = 1; ; attempt++) {
    let outcome: Outcome;
    let response: HttpResponse | undefined;
    let failure: TransportError | undefined;
    try {
      response = await send({
        method: 'GET',
        url: target,
        headers: opts.headers,
        connectTimeoutMs: opts.policy.connectTimeoutMs,
        idleTimeoutMs: opts.policy.idleTimeoutMs,
        signal: opts.signal,
        // One byte over the limit tells a page that was cut from one that fits exactly.
        maxResponseBytes: limit + 1,
      });
      outcome = { status: response.status, retryAfter: header(response, 'retry-after') };
    } catch (e) {
      if (!(e instanceof TransportError)) throw e;
      failure = e;
      outcome = { error: e.code };
    }
    if (response && REDIRECTS.has(response.status) && header(response, 'location')) {
      if (++hops > MAX_HOPS) throw new TransportError(`GET ${String(url)}: more than ${MAX_HOPS} redirects`, 'EREDIRECT', false);
      target = new URL(header(response, 'location')!, target);
      attempt--;
      continue;
    }
    if (response && response.body.length > limit) {
      throw new TransportError(`GET ${target.href}: the answer is larger than ${limit} bytes`, 'ETOOBIG', false);
    }
    const delay = nextDelay(attempt, outcome, opts.policy, now() - start, now());
    if (delay === undefined) {
      if (failure) throw failure;
      return { ...response!, url: target, attempts: attempt };
    }
    opts.onRetry?.(failure ? `${failure.reason} (${failure.code})` : `HTTP ${response!.status}`, delay);
    await sleep(delay, opts.signal);
  }
}

function header(r: HttpResponse, name: string): string | undefined {
  const v = r.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
