import { basicHeader, mayShareCredentials, parseChallenge, refreshMarginMs, scopesFor, tokenAnswer, tokenUrl } from '../../src/adapters/registry/auth';
import { registryMessage } from '../../src/adapters/registry/client';

describe('parseChallenge', () => {
  test.each([
    {
      name: 'GHCR',
      header: 'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/worker:pull"',
      want: { scheme: 'bearer', params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:acme/worker:pull' } },
    },
    {
      name: 'Docker Hub with a scope list holding commas',
      header: 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push"',
      want: { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:a/b:pull,push' } },
    },
    { name: 'htpasswd Basic', header: 'Basic realm="ml-image-build"', want: { scheme: 'basic', params: { realm: 'ml-image-build' } } },
    {
      name: 'unquoted values and spaces',
      header: 'Bearer realm=https://r.test/token , service=r.test',
      want: { scheme: 'bearer', params: { realm: 'https://r.test/token', service: 'r.test' } },
    },
    {
      name: 'escaped quote inside a value',
      header: 'Bearer realm="https://r.test/t",error="a \\"b\\""',
      want: { scheme: 'bearer', params: { realm: 'https://r.test/t', error: 'a "b"' } },
    },
  ])('$name', ({ header, want }) => {
    expect(parseChallenge(header)).toEqual(want);
  });

  test.each([undefined, '', '   '])('nothing to read in %p', (h) => {
    expect(parseChallenge(h)).toBeUndefined();
  });
});

describe('mayShareCredentials', () => {
  const reg = (u: string) => new URL(u);
  test.each([
    { name: 'HTTPS realm on another host (Docker Hub)', registry: 'https://registry-1.docker.io', realm: 'https://auth.docker.io/token', want: true },
    { name: 'HTTPS realm on the same host (GHCR)', registry: 'https://ghcr.io', realm: 'https://ghcr.io/token', want: true },
    { name: 'plain HTTP realm on the loopback registry itself', registry: 'http://127.0.0.1:5000', realm: 'http://127.0.0.1:5000/token', want: true },
    { name: 'plain HTTP realm on another host: never', registry: 'https://registry.example', realm: 'http://auth.example/token', want: false },
    {
      name: 'plain HTTP realm on another port of the same address: another origin',
      registry: 'http://127.0.0.1:5000',
      realm: 'http://127.0.0.1:6000/token',
      want: false,
    },
  ])('$name', ({ registry, realm, want }) => {
    expect(mayShareCredentials(reg(registry), reg(realm))).toBe(want);
  });
});

describe('token request', () => {
  test('service and one scope parameter per scope', () => {
    const url = tokenUrl(
      { scheme: 'bearer', params: { realm: 'https://ghcr.io/token?x=1', service: 'ghcr.io' } },
      scopesFor('acme/worker', ['acme/base', 'acme/worker']),
    );
    expect(url.searchParams.get('service')).toBe('ghcr.io');
    expect(url.searchParams.get('x')).toBe('1');
    expect(url.searchParams.getAll('scope')).toEqual(['repository:acme/worker:pull,push', 'repository:acme/base:pull']);
  });

  test('a challenge without a realm is refused', () => {
    expect(() => tokenUrl({ scheme: 'bearer', params: { service: 'x' } }, [])).toThrow(/without a realm/);
  });

  test.each([
    { name: 'token', body: '{"token":"abc"}', want: 'abc' },
    { name: 'OAuth2 access_token', body: '{"access_token":"xyz","expires_in":300}', want: 'xyz' },
    { name: 'token wins', body: '{"token":"t","access_token":"a"}', want: 't' },
    { name: 'empty token', body: '{"token":""}', want: undefined },
    { name: 'not JSON', body: '<html>', want: undefined },
  ])('tokenAnswer: $name', ({ body, want }) => {
    expect(tokenAnswer(body)?.token).toBe(want);
  });

  test('Basic header', () => {
    expect(basicHeader({ username: 'u', password: 'p:w' })).toBe(`Basic ${Buffer.from('u:p:w').toString('base64')}`);
  });
});

describe('registryMessage', () => {
  test.each([
    {
      name: 'Distribution error JSON',
      body: '{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN","message":"blob upload unknown to registry","detail":{}}]}',
      want: 'BLOB_UPLOAD_UNKNOWN: blob upload unknown to registry',
    },
    { name: 'several errors', body: '{"errors":[{"code":"A","message":"a"},{"code":"B"}]}', want: 'A: a; B' },
    { name: 'HTML from a proxy', body: '<html>\n<body>502 Bad Gateway</body>\n</html>', want: '<html> <body>502 Bad Gateway</body> </html>' },
    { name: 'empty', body: '', want: '' },
  ])('$name', ({ body, want }) => {
    expect(registryMessage(Buffer.from(body))).toBe(want);
  });
});

describe('token lifetime', () => {
  test.each([
    { name: 'expires_in given', body: '{"token":"t","expires_in":300}', want: { token: 't', expiresInSeconds: 300 } },
    { name: 'no expires_in: the spec default of 60 s', body: '{"token":"t"}', want: { token: 't', expiresInSeconds: 60 } },
    { name: 'nonsense expires_in: the default', body: '{"token":"t","expires_in":-5}', want: { token: 't', expiresInSeconds: 60 } },
    { name: 'no token', body: '{"expires_in":300}', want: undefined },
  ])('tokenAnswer: $name', ({ body, want }) => {
    expect(tokenAnswer(body)).toEqual(want);
  });

  test.each([
    { name: "GHCR's 5 minutes: renewed in the last 30 s", lifetime: 300_000, want: 30_000 },
    { name: 'a 60 s token: the last quarter', lifetime: 60_000, want: 15_000 },
    { name: 'a 3 s token: the last 750 ms', lifetime: 3000, want: 750 },
  ])('refreshMarginMs: $name', ({ lifetime, want }) => {
    expect(refreshMarginMs(lifetime)).toBe(want);
  });
});
