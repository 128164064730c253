/**
 * `/.well-known/jwks.json` is answered by the engine's Web handler, so every
 * adapter serves it, with the same headers, and a token issued through any
 * of them verifies against it with nothing but jose.
 */
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, APP_ORIGIN } from '../support/test-server.js';
import { ADAPTERS, startAdapterServer, type AdapterServer } from './adapter-apps.js';

describe.each(ADAPTERS)('JWKS through the %s adapter', (adapter) => {
  let server: AdapterServer;
  beforeAll(async () => {
    server = await startAdapterServer(adapter, { signingAlgorithm: 'EdDSA' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('serves the public key set, also with a query string, and tokens verify against it', async () => {
    const response = await fetch(`${server.baseURL}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/jwk-set+json');
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    const jwks = (await response.json()) as JSONWebKeySet;
    expect(jwks.keys.map((k) => [k.kty, k.alg, k.use, k.d])).toEqual([['OKP', 'EdDSA', 'sig', undefined]]);
    expect((await fetch(`${server.baseURL}/.well-known/jwks.json?x=1`)).status).toBe(200);

    const browser = server.browser();
    expect((await browser.login(ALICE)).status).toBe(200);
    const token = browser.cookie('__Host-gh_access') ?? '';
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: APP_ORIGIN, audience: APP_ORIGIN, currentDate: new Date(server.clock.now()) });
    expect(payload.preferred_username).toBe('alice');
  });

  it('leaves neighbouring paths to the application', async () => {
    const response = await fetch(`${server.baseURL}/.well-known/jwks.jsonx`);
    expect(response.headers.get('content-type')).not.toBe('application/jwk-set+json');
  });
});
