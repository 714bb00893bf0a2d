/**
 * Registry authentication: the `WWW-Authenticate` challenge (Basic for htpasswd registries,
 * Bearer with a token realm for GHCR and Docker Hub) and what may be sent where. Pure.
 */
export interface Credentials {
  username: string;
  password: string;
}

export interface Challenge {
  scheme: string; // lower case: 'basic' or 'bearer'
  params: Record<string, string>;
}

/** `Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/w:pull"`; undefined when unreadable. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  // Quoted values may hold commas (scope lists); unquoted tokens are allowed too.
  for (const p of m[2].matchAll(/([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    params[p[1].toLowerCase()] = (p[2] ?? p[3]).replace(/\\(.)/g, '$1');
  }
  return { scheme: m[1].toLowerCase(), params };
}

export function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

/**
 * Whether Basic credentials may go to a token realm: over HTTPS, or to the registry's own host
 * (a loopback registry speaks plain HTTP, and its realm with it). Never in clear text to a host
 * the registry named, since the registry's answer is all that points us there.
 */
export function mayShareCredentials(registry: URL, realm: URL): boolean {
  return realm.protocol === 'https:' || realm.host === registry.host;
}

/** The token request: the realm with service and one `scope` parameter per scope. */
export function tokenUrl(challenge: Challenge, scopes: string[]): URL {
  const realm = challenge.params.realm;
  if (!realm) throw new Error('the registry sent a Bearer challenge without a realm');
  const url = new URL(realm);
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
  for (const s of scopes) url.searchParams.append('scope', s);
  return url;
}

/** `repository:NAME:pull,push` for the target, `repository:NAME:pull` for each repository blobs are mounted from. */
export function scopesFor(repository: string, mountFrom: string[]): string[] {
  return [`repository:${repository}:pull,push`, ...mountFrom.filter((r) => r !== repository).map((r) => `repository:${r}:pull`)];
}

/**
 * The token in a realm's JSON answer (`token`, or OAuth2's `access_token`) and how long it lives: `expires_in` seconds, 60 when the realm does not say (the
 * token spec's default).
 */
export function tokenAnswer(body: string): { token: string; expiresInSeconds: number } | undefined {
  try {
    const j = JSON.parse(body) as { token?: unknown; access_token?: unknown; expires_in?: unknown };
    const t = typeof j.token === 'string' && j.token ? j.token : typeof j.access_token === 'string' ? j.access_token : undefined;
    if (!t) return undefined;
    const expires = typeof j.expires_in === 'number' && j.expires_in > 0 ? j.expires_in : 60;
    return { token: t, expiresInSeconds: expires };
  } catch {
    return undefined;
  }
}

/**
 * A Bearer token is fetched again before a request when less than this is left of its life: a
 * quarter of it, at most 30 s. A registry checks the token when a request arrives, so a token
 * that is still good when a multi-gigabyte upload starts carries it to the end.
 */
export function refreshMarginMs(lifetimeMs: number): number {
  return Math.min(30_000, lifetimeMs / 4);
}
