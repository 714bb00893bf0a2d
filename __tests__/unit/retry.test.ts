import { DEFAULT_POLICY, isRetryable, nextDelay, parseRetryAfter, policyFromEnv, type Outcome, type RetryPolicy } from '../../src/adapters/registry/retry';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const policy: RetryPolicy = { ...DEFAULT_POLICY, attempts: 5, baseDelayMs: 1000, maxDelayMs: 8000, maxRetryAfterMs: 60_000, budgetMs: 120_000 };

describe('isRetryable', () => {
  test.each<{ name: string; outcome: Outcome; want: boolean }>([
    { name: '408 request timeout', outcome: { status: 408 }, want: true },
    { name: '429 too many requests', outcome: { status: 429 }, want: true },
    { name: '500', outcome: { status: 500 }, want: true },
    { name: '502', outcome: { status: 502 }, want: true },
    { name: '503', outcome: { status: 503 }, want: true },
    { name: '504', outcome: { status: 504 }, want: true },
    { name: '501 not implemented is an answer, not a hiccup', outcome: { status: 501 }, want: false },
    { name: '400', outcome: { status: 400 }, want: false },
    { name: '401 (auth is handled apart)', outcome: { status: 401 }, want: false },
    { name: '403', outcome: { status: 403 }, want: false },
    { name: '404', outcome: { status: 404 }, want: false },
    { name: 'connection reset', outcome: { error: 'ECONNRESET' }, want: true },
    { name: 'connection refused', outcome: { error: 'ECONNREFUSED' }, want: true },
    { name: 'timeout', outcome: { error: 'ETIMEDOUT' }, want: true },
    { name: 'DNS hiccup', outcome: { error: 'EAI_AGAIN' }, want: true },
    { name: 'cancelled', outcome: { error: 'ABORTED' }, want: false },
    { name: 'a local failure of the source', outcome: { error: 'ESOURCE' }, want: false },
  ])('$name: $want', ({ outcome, want }) => {
    expect(isRetryable(outcome)).toBe(want);
  });
});

describe('parseRetryAfter', () => {
  test.each([
    { name: 'seconds', value: '7', want: 7000 },
    { name: 'zero', value: '0', want: 0 },
    { name: 'spaces around', value: ' 3 ', want: 3000 },
    { name: 'an HTTP date 30 s ahead', value: 'Tue, 24 Nov 2026 12:00:30 GMT', want: 30_000 },
    { name: 'an HTTP date in the past is no wait', value: 'Tue, 24 Nov 2026 11:59:00 GMT', want: 0 },
    { name: 'absent', value: undefined, want: undefined },
    { name: 'garbage', value: 'soon', want: undefined },
    { name: 'negative is not delay-seconds', value: '-5', want: undefined },
  ])('$name', ({ value, want }) => {
    expect(parseRetryAfter(value, NOW)).toBe(want);
  });
});

describe('nextDelay', () => {
  const mid = () => 0.5; // jitter factor 0.75
  test.each<{ name: string; attempt: number; outcome: Outcome; elapsed?: number; random?: () => number; want: number | undefined }>([
    { name: 'first retry: half to all of the base', attempt: 1, outcome: { status: 503 }, random: mid, want: 750 },
    { name: 'second retry doubles', attempt: 2, outcome: { status: 503 }, random: mid, want: 1500 },
    { name: 'third retry doubles again', attempt: 3, outcome: { error: 'ECONNRESET' }, random: mid, want: 3000 },
    { name: 'the step is capped at maxDelayMs', attempt: 4, outcome: { status: 500 }, random: () => 1, want: 8000 },
    { name: 'jitter low end is half the step', attempt: 1, outcome: { status: 500 }, random: () => 0, want: 500 },
    { name: 'Retry-After wins over backoff', attempt: 1, outcome: { status: 429, retryAfter: '4' }, want: 4000 },
    { name: 'Retry-After 0 retries at once', attempt: 2, outcome: { status: 503, retryAfter: '0' }, want: 0 },
    { name: 'a long Retry-After is capped', attempt: 1, outcome: { status: 429, retryAfter: '3600' }, want: 60_000 },
    { name: 'out of tries', attempt: 5, outcome: { status: 503 }, want: undefined },
    { name: 'not retryable', attempt: 1, outcome: { status: 404 }, want: undefined },
    { name: 'past the time budget', attempt: 2, outcome: { status: 503 }, elapsed: 119_500, random: mid, want: undefined },
  ])('$name', ({ attempt, outcome, elapsed, random, want }) => {
    expect(nextDelay(attempt, outcome, policy, elapsed ?? 0, NOW, random ?? Math.random)).toBe(want);
  });

  test('every retry of a full run stays within [50%, 100%] of its step', () => {
    for (let attempt = 1; attempt < 5; attempt++) {
      const step = Math.min(8000, 1000 * 2 ** (attempt - 1));
      for (let i = 0; i < 50; i++) {
        const d = nextDelay(attempt, { error: 'ECONNRESET' }, policy, 0, NOW)!;
        expect(d).toBeGreaterThanOrEqual(step / 2);
        expect(d).toBeLessThanOrEqual(step);
      }
    }
  });
});

describe('policyFromEnv', () => {
  test('no variables: the defaults', () => {
    expect(policyFromEnv({})).toEqual(DEFAULT_POLICY);
  });
  test.each([
    { name: 'attempts', env: { MLIB_REGISTRY_ATTEMPTS: '2' }, key: 'attempts' as const, want: 2 },
    { name: 'idle timeout', env: { MLIB_REGISTRY_IDLE_TIMEOUT_MS: '1500' }, key: 'idleTimeoutMs' as const, want: 1500 },
    { name: 'base delay', env: { MLIB_REGISTRY_BASE_DELAY_MS: '10' }, key: 'baseDelayMs' as const, want: 10 },
    { name: 'empty is unset', env: { MLIB_REGISTRY_ATTEMPTS: '' }, key: 'attempts' as const, want: DEFAULT_POLICY.attempts },
  ])('$name', ({ env, key, want }) => {
    expect(policyFromEnv(env)[key]).toBe(want);
  });
  test.each([
    { name: 'not a number', env: { MLIB_REGISTRY_CONNECT_TIMEOUT_MS: 'fast' }, want: /MLIB_REGISTRY_CONNECT_TIMEOUT_MS: 'fast' is not a whole number/ },
    { name: 'zero attempts', env: { MLIB_REGISTRY_ATTEMPTS: '0' }, want: /MLIB_REGISTRY_ATTEMPTS: '0' is not a whole number of at least 1/ },
  ])('refuses $name', ({ env, want }) => {
    expect(() => policyFromEnv(env)).toThrow(want);
  });
});
