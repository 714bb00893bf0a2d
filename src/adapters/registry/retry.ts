/**
 * When a registry request is tried again, and after how long. Pure: the clock and the dice are
 * passed in, so the table-driven tests can pin every decision.
 */
export interface RetryPolicy {
  /** Tries of one request, the first included. */
  attempts: number;
  /** First backoff; doubled on every retry, with jitter, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is cut to it (a registry asking for an hour would stall the job). */
  maxRetryAfterMs: number;
  /** No retry is started once this much time has gone by since the first try. */
  budgetMs: number;
  /** Time to open a connection (TCP and TLS). */
  connectTimeoutMs: number;
  /** Time a request may go without a byte sent or received. */
  idleTimeoutMs: number;
  /** The same, for the request that completes a blob upload: registries check the whole blob before they answer. */
  completeTimeoutMs: number;
}

export const DEFAULT_POLICY: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 120_000,
  budgetMs: 10 * 60_000,
  connectTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  completeTimeoutMs: 300_000,
};

/**
 * The policy with overrides from the environment (MLIB_REGISTRY_ATTEMPTS, ..._BASE_DELAY_MS,
 * ..._IDLE_TIMEOUT_MS and so on: the field name in upper snake case; MLIB_INDEX_... for the wheel
 * index). For slow self-hosted registries, and for the fault-injection tests, which cannot wait two
 * minutes per silence.
 */
export function policyFromEnv(env: NodeJS.ProcessEnv, base: RetryPolicy = DEFAULT_POLICY, prefix = 'MLIB_REGISTRY'): RetryPolicy {
  const out = { ...base };
  for (const key of Object.keys(base) as (keyof RetryPolicy)[]) {
    const name = `${prefix}_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    if (!/^\d+$/.test(raw.trim()) || Number(raw) < (key === 'attempts' ? 1 : 0)) {
      throw new Error(`environment variable ${name}: '${raw}' is not a whole number${key === 'attempts' ? ' of at least 1' : ''}`);
    }
    out[key] = Number(raw);
  }
  return out;
}

/** What one try ended with: a response status, or a transport error code (ECONNRESET, ETIMEDOUT, ...). */
export type Outcome = { status: number; retryAfter?: string } | { error: string };

/** Transport failures worth another try: the request may not have reached the registry, or its answer was lost. */
const RETRYABLE_ERRORS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
  'HPE_INVALID_CONSTANT',
  'EPROTO',
]);

export function isRetryable(o: Outcome): boolean {
  if ('error' in o) return RETRYABLE_ERRORS.has(o.error);
  return o.status === 408 || o.status === 429 || (o.status >= 500 && o.status <= 599 && o.status !== 501 && o.status !== 505);
}

/** Retry-After in milliseconds: delay-seconds or an HTTP-date. Undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An HTTP-date starts with the day's name ("Tue, 24 Nov 2026 12:00:30 GMT").
  if (!/^[A-Za-z]{3},/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * The wait before try number `attempt + 1` (attempt counts from 1), or undefined to give up:
 * not retryable, out of tries, or past the time budget. Backoff is exponential with full
 * jitter in [50%, 100%] of the step; a Retry-After from the registry wins (capped).
 */
export function nextDelay(
  attempt: number,
  outcome: Outcome,
  policy: RetryPolicy,
  elapsedMs: number,
  now: number,
  random: () => number = Math.random,
): number | undefined {
  if (!isRetryable(outcome) || attempt >= policy.attempts) return undefined;
  const retryAfter = 'status' in outcome ? parseRetryAfter(outcome.retryAfter, now) : undefined;
  let delay: number;
  if (retryAfter !== undefined) {
    delay = Math.min(retryAfter, policy.maxRetryAfterMs);
  } else {
    const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
    delay = Math.round(step * (0.5 + random() / 2));
  }
  if (elapsedMs + delay > policy.budgetMs) return undefined;
  return delay;
}
