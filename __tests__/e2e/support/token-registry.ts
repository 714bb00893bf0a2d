import { execFileSync, spawn, type ChildProcess } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

/**
 * Debian's Distribution registry (2.8) with Bearer token auth, and a small JWT issuer of our own:
 * the GHCR / Docker Hub login flow on 127.0.0.1.
 *
 * The registry answers 401 with `WWW-Authenticate: Bearer realm=…,service=…,scope=…`; the client
 * GETs the realm with Basic credentials and `scope=repository:NAME:pull,push` (one `scope` parameter
 * per scope); the issuer answers `{token, access_token, expires_in, issued_at}`.
 *
 * Trust: the issuer signs ES256 with a P-256 key whose self-signed certificate is the registry's
 * `rootcertbundle`. The registry loads the bundle's public keys into a map keyed by libtrust key ID,
 * and the JWT header's `kid` names that key (the default). With `keyRef: 'x5c'` the header carries
 * the certificate itself instead, which the registry verifies against the same bundle.
 */

/**
 * Distribution 2.8 accepts a token until `exp` + this leeway (and from `nbf` - leeway), for clock
 * skew: `Leeway = 60 * time.Second` in registry/auth/token/token.go, and the self-test confirms
 * it against the real binary. To make a token really expire `ttl` seconds after issue, the issuer
 * writes exp = issue time + ttl - LEEWAY_SECONDS, so the JWT's own `exp` lies in the past for any
 * ttl under a minute: clients must go by `expires_in` (as registry clients do), not decode the JWT.
 */
export const LEEWAY_SECONDS = 60;

export interface Grant {
  at: number;
  /** '' for an anonymous request. */
  user: string;
  /** Scopes granted, as `type:name:actions` (none for an anonymous request). */
  scopes: string[];
}

export interface TokenRegistry {
  /** The registry, 127.0.0.1:PORT. */
  host: string;
  /** Base URL of the issuer, http://127.0.0.1:PORT; its token endpoint is `${issuerUrl}/token`. */
  issuerUrl: string;
  user: string;
  password: string;
  /** The realm the registry names in its challenges. */
  realm: string;
  /** The `service` in challenges and the tokens' audience. */
  service: string;
  /** The tokens' `iss`. */
  issuerName: string;
  grants: Grant[];
  /**
   * Tokens issued from now on are refused by the registry about `seconds` after issue. Their
   * `expires_in` says `statedSeconds` (default: the truth): a lie lets a test make a token expire
   * while the client still trusts it, as a revoked or clock-skewed token would.
   */
  setTokenTtl(seconds: number, statedSeconds?: number): void;
  /** Signs a token directly (for tests that need one without the HTTP round trip). */
  mint(user: string, scopes: string[], ttlSeconds?: number): string;
  stop(): void;
}

export interface TokenRegistryOptions {
  /** If set, the realm is `${realmBase}/token` (e.g. a FaultProxy in front of the issuer); otherwise the issuer's own. */
  realmBase?: string;
  /** Default 300. */
  tokenTtlSeconds?: number;
  user?: string;
  password?: string;
  /** How the JWT header names the signing key: libtrust `kid` (default) or an `x5c` chain. */
  keyRef?: 'kid' | 'x5c';
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** RFC 4648 base32 without padding. */
function base32(buf: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/**
 * The key ID libtrust (and so Distribution) derives from a public key: SHA-256 of the DER
 * SubjectPublicKeyInfo, its first 240 bits in base32, as 12 groups of 4 joined by ':'.
 */
export function libtrustKeyId(key: crypto.KeyObject): string {
  const spki = key.export({ type: 'spki', format: 'der' });
  const id = base32(crypto.createHash('sha256').update(spki).digest().subarray(0, 30));
  return id.match(/.{4}/g)!.join(':');
}

/** `type:name:actions` → parts; the name may itself hold ':' (a registry host with a port). */
function parseScope(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last <= first) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter(Boolean),
  };
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitForChallenge(url: string, proc: ChildProcess, stderr: () => string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (proc.exitCode !== null) throw new Error(`docker-registry exited with ${proc.exitCode}: ${stderr()}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      if (r.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry did not answer 401 at ${url}: ${stderr()}`);
}

export async function startTokenRegistry(opts: TokenRegistryOptions = {}): Promise<TokenRegistry> {
  const user = opts.user ?? 'token-pusher';
  const password = opts.password ?? `pw-${crypto.randomBytes(9).toString('base64url')}`;
  const service = 'mlib-test-registry';
  const issuerName = 'mlib-test-issuer';
  const keyRef = opts.keyRef ?? 'kid';
  let ttl = opts.tokenTtlSeconds ?? 300;
  let statedTtl = ttl;
  const grants: Grant[] = [];

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlib-token-registry-'));
  let issuer: http.Server | undefined;
  let proc: ChildProcess | undefined;
  const cleanup = () => {
    proc?.kill();
    issuer?.closeAllConnections();
    issuer?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    const keyPath = path.join(dir, 'key.pem');
    const certPath = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyPath], { stdio: 'pipe' });
    execFileSync('openssl', ['req', '-new', '-x509', '-key', keyPath, '-out', certPath, '-days', '7', '-subj', '/CN=mlib-test-token-issuer'], {
      stdio: 'pipe',
    });
    const privateKey = crypto.createPrivateKey(fs.readFileSync(keyPath));
    const cert = new crypto.X509Certificate(fs.readFileSync(certPath));
    const header =
      keyRef === 'kid'
        ? { typ: 'JWT', alg: 'ES256', kid: libtrustKeyId(crypto.createPublicKey(privateKey)) }
        : { typ: 'JWT', alg: 'ES256', x5c: [cert.raw.toString('base64')] };
    const encodedHeader = b64url(JSON.stringify(header));

    const mint = (sub: string, scopes: string[], ttlSeconds = ttl): string => {
      const now = Date.now() / 1000;
      const access: Array<{ type: string; name: string; actions: string[] }> = [];
      for (const s of scopes) {
        const p = parseScope(s);
        if (!p) continue;
        const same = access.find((a) => a.type === p.type && a.name === p.name);
        if (same) same.actions = [...new Set([...same.actions, ...p.actions])];
        else access.push(p);
      }
      const claims = {
        iss: issuerName,
        sub,
        aud: service,
        // See LEEWAY_SECONDS: the registry refuses the token once now > exp + leeway.
        exp: Math.round(now + ttlSeconds) - LEEWAY_SECONDS,
        nbf: Math.floor(now) - 1,
        iat: Math.floor(now),
        jti: crypto.randomUUID(),
        access,
      };
      const signingInput = `${encodedHeader}.${b64url(JSON.stringify(claims))}`;
      const sig = crypto.sign('sha256', Buffer.from(signingInput), { key: privateKey, dsaEncoding: 'ieee-p1363' });
      return `${signingInput}.${b64url(sig)}`;
    };

    issuer = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://issuer');
      const json = (status: number, body: object, extra: http.OutgoingHttpHeaders = {}) => {
        const text = JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...extra });
        res.end(text);
      };
      req.resume();
      if (url.pathname !== '/token' || (req.method !== 'GET' && req.method !== 'HEAD')) {
        return json(404, { errors: [{ code: 'NOT_FOUND', message: 'GET /token only' }] });
      }
      let who = '';
      const auth = req.headers.authorization;
      if (auth !== undefined) {
        const m = /^Basic\s+(\S+)$/i.exec(auth);
        const decoded = m ? Buffer.from(m[1], 'base64').toString('utf8') : '';
        const colon = decoded.indexOf(':');
        if (colon < 0 || decoded.slice(0, colon) !== user || decoded.slice(colon + 1) !== password) {
          return json(
            401,
            { errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] },
            { 'www-authenticate': `Basic realm="${issuerName}"` },
          );
        }
        who = user;
      }
      if (url.searchParams.get('service') && url.searchParams.get('service') !== service) {
        return json(400, { errors: [{ code: 'INVALID_REQUEST', message: `unknown service ${url.searchParams.get('service')}` }] });
      }
      const scopes = who
        ? url.searchParams
            .getAll('scope')
            .flatMap((s) => s.split(' '))
            .filter((s) => parseScope(s) !== undefined)
        : [];
      grants.push({ at: Date.now(), user: who, scopes });
      const token = mint(who, scopes);
      json(200, { token, access_token: token, expires_in: statedTtl, issued_at: new Date().toISOString() });
    });
    const issuerPort = await listen(issuer);
    const issuerUrl = `http://127.0.0.1:${issuerPort}`;
    const realm = `${(opts.realmBase ?? issuerUrl).replace(/\/$/, '')}/token`;

    const host = `127.0.0.1:${await freePort()}`;
    fs.writeFileSync(
      path.join(dir, 'config.yml'),
      [
        'version: 0.1',
        'log: {level: warn}',
        `storage: {filesystem: {rootdirectory: "${dir}/data"}, delete: {enabled: true}}`,
        `http: {addr: "${host}"}`,
        `auth: {token: {realm: "${realm}", service: "${service}", issuer: "${issuerName}", rootcertbundle: "${certPath}"}}`,
        '',
      ].join('\n'),
    );
    let stderr = '';
    const child = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc = child;
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    await waitForChallenge(`http://${host}/v2/`, child, () => stderr);

    return {
      host,
      issuerUrl,
      user,
      password,
      realm,
      service,
      issuerName,
      grants,
      setTokenTtl(seconds: number, statedSeconds = seconds) {
        ttl = seconds;
        statedTtl = statedSeconds;
      },
      mint,
      stop: cleanup,
    };
  } catch (e) {
    cleanup();
    throw e;
  }
}
