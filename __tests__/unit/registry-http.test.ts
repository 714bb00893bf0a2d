import * as http from 'http';
import * as https from 'https';
import { agentFor } from '../../src/adapters/registry/http';

/**
 * Proxy settings reach every registry request through @actions/http-client's agent choice, as in
 * the rest of the actions toolkit: HTTPS_PROXY for https registries, NO_PROXY exempts hosts, and
 * loopback registries never go through a proxy.
 */
describe('agentFor', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
  const proxied = (a: http.Agent) => (a as unknown as { proxyOptions?: { host: string; port: string | number } }).proxyOptions;

  test('no proxy set: a plain keep-alive HTTPS agent', () => {
    delete process.env.HTTPS_PROXY;
    delete process.env.https_proxy;
    const a = agentFor(new URL('https://ghcr.io/v2/'));
    expect(a).toBeInstanceOf(https.Agent);
    expect(proxied(a)).toBeUndefined();
  });

  test('HTTPS_PROXY: the registry is reached through the proxy', () => {
    process.env.HTTPS_PROXY = 'http://proxy.corp.test:3128';
    const a = agentFor(new URL('https://ghcr.io/v2/'));
    expect(proxied(a)).toMatchObject({ host: 'proxy.corp.test', port: '3128' });
  });

  test.each([
    { name: 'the host itself', noProxy: 'ghcr.io' },
    { name: 'a parent domain', noProxy: '.example.test,ghcr.io' },
    { name: 'everything', noProxy: '*' },
  ])('NO_PROXY exempts $name', ({ noProxy }) => {
    process.env.HTTPS_PROXY = 'http://proxy.corp.test:3128';
    process.env.NO_PROXY = noProxy;
    expect(proxied(agentFor(new URL('https://ghcr.io/v2/')))).toBeUndefined();
  });

  test('a loopback registry never goes through the proxy', () => {
    process.env.HTTP_PROXY = 'http://proxy.corp.test:3128';
    const a = agentFor(new URL('http://127.0.0.1:5000/v2/'));
    expect(a).toBeInstanceOf(http.Agent);
    expect(proxied(a)).toBeUndefined();
  });
});
