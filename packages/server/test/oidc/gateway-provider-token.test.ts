/**
 * OpenID Connect behind the gateway (issue 10): a route with
 * `forward: "provider-token"` sends the upstream the access token the real
 * provider issued at sign-in, and the provider accepts that token (its
 * userinfo endpoint answers for the user who signed in).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatehouseError } from '../../src/core/errors.js';
import { createGateway, type Gateway } from '../../src/gateway/gateway.js';
import { createNodeServer, sendError } from '../../src/http/node.js';
import { TestUpstream } from '../gateway/gateway-support.js';
import { ALICE, ProviderUser, signInWith, startOIDCServer, type OIDCTestServer } from './support/oidc-server.js';

let upstream: TestUpstream;
let server: OIDCTestServer;
let gateway: Gateway;
let front: Server;
let frontURL: string;

beforeAll(async () => {
  upstream = await TestUpstream.start();
  server = await startOIDCServer({
    config: { gateway: { routes: [{ prefix: '/provider-api', upstream: upstream.url, audience: 'provider-api', forward: 'provider-token' }] } },
  });
  // The gateway on a server of its own, in front of the same Gatehouse: the browser's cookies go with each request.
  gateway = await createGateway(server.gatehouse);
  front = createNodeServer(server.gatehouse, { fallback: gateway.handler((_req, res) => sendError(res, new GatehouseError('NOT_FOUND'))) });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  frontURL = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await gateway?.close();
  await new Promise<void>((resolve) => {
    if (front === undefined) return resolve();
    front.close(() => resolve());
    front.closeAllConnections();
  });
  await server?.close();
  await upstream?.close();
});

async function userinfoSub(authorization: string): Promise<unknown> {
  const response = await fetch(`${server.provider.issuer}/me`, { headers: { authorization } });
  return response.ok ? ((await response.json()) as { sub?: unknown }).sub : response.status;
}

describe('a gateway route with forward: "provider-token"', () => {
  it('sends the upstream the real provider access token of the session, which the provider accepts', async () => {
    const browser = server.browser();
    expect((await signInWith(server, browser, 'demo', new ProviderUser('gateway-user'))).status).toBe(303);
    const sessionId = (await browser.get('/auth/me')).body.session.id as string;

    const response = await fetch(`${frontURL}/provider-api/orders`, { headers: { cookie: browser.cookieHeader('/provider-api/orders') } });
    expect(response.status).toBe(200);
    const authorization = upstream.last.headers.authorization ?? '';
    const held = await server.gatehouse.providerTokens?.accessTokenFor(sessionId);
    expect(held).toMatchObject({ providerId: 'demo' });
    expect(authorization).toBe(`Bearer ${held?.token}`);
    expect(await userinfoSub(authorization)).toBe('gateway-user');
  });

  it('refuses a password session, which has no provider token (401), and the upstream hears nothing', async () => {
    const browser = server.browser();
    expect((await browser.login(ALICE)).status).toBe(200);
    const before = upstream.received.length;
    const response = await fetch(`${frontURL}/provider-api/orders`, { headers: { cookie: browser.cookieHeader('/provider-api/orders') } });
    expect(response.status).toBe(401);
    expect(upstream.received).toHaveLength(before);
  });
});
