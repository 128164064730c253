/**
 * DPoP-bound tokens through the gateway: a proxied route and the decision
 * endpoint (nginx `auth_request` and its kind) judge the proof against the
 * public URL the client called (`dpop.origins` plus the original path), never
 * against the gateway's own address or the decision endpoint's path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayServer, TestUpstream, type GatewayServer } from '../gateway/gateway-support.js';
import { boundSession, type BoundSession } from './bound-tokens.js';
import { generateKeyPair, generateProof, type KeyPair } from './support.js';

const PUBLIC = 'https://api.example.test';
let upstream: TestUpstream;
let server: GatewayServer;
let keys: KeyPair;
let session: BoundSession;

beforeAll(async () => {
  upstream = await TestUpstream.start();
  server = await startGatewayServer({
    trustProxy: ['127.0.0.1'],
    dpop: { origins: [PUBLIC] },
    gateway: { routes: [{ prefix: '/api', upstream: upstream.url, audience: 'orders-api' }], decisionPath: '/gatehouse/decision' },
  });
  keys = await generateKeyPair('ES256');
  session = await boundSession(server.gatehouse, keys, server.clock);
});
afterAll(async () => {
  await server?.close();
  await upstream?.server.close();
});

const proofFor = (path: string, method = 'GET', pair = keys) => generateProof(pair, `${PUBLIC}${path}`, method, undefined, session.bound);

describe('DPoP through the gateway', () => {
  it('a proxied route admits the bound token with a proof for the public URL, and forwards an identity, not the token', async () => {
    const response = await fetch(`${server.baseURL}/api/orders/1`, { headers: { authorization: `DPoP ${session.bound}`, dpop: await proofFor('/api/orders/1') } });
    expect(response.status).toBe(200);
    expect(upstream.last.headers.authorization).not.toContain(session.bound);
    expect(upstream.last.headers.dpop).toBeUndefined();
  });

  it('a proxied route refuses the bound token as Bearer, and a proof of another key', async () => {
    const bearer = await fetch(`${server.baseURL}/api/orders/1`, { headers: { authorization: `Bearer ${session.bound}` } });
    expect(bearer.status).toBe(401);
    const thief = await generateKeyPair('ES256');
    const stolen = await fetch(`${server.baseURL}/api/orders/1`, { headers: { authorization: `DPoP ${session.bound}`, dpop: await proofFor('/api/orders/1', 'GET', thief) } });
    expect(((await stolen.json()) as { error: { code: string } }).error.code).toBe('DPOP_KEY_MISMATCH');
  });

  it('the decision endpoint judges the proof against the original URI and method the proxy names', async () => {
    const ask = async (proof: string, uri = '/api/orders/1', method = 'GET') =>
      fetch(`${server.baseURL}/gatehouse/decision`, { headers: { 'x-original-uri': uri, 'x-original-method': method, authorization: `DPoP ${session.bound}`, dpop: proof } });
    const allowed = await ask(await proofFor('/api/orders/1'));
    expect(allowed.status).toBe(200);
    // A proof for another path or method, or for the decision endpoint itself, is refused.
    for (const [proof, code] of [
      [await proofFor('/api/orders/2'), 'DPOP_URL_MISMATCH'],
      [await proofFor('/api/orders/1', 'DELETE'), 'DPOP_METHOD_MISMATCH'],
      [await proofFor('/gatehouse/decision'), 'DPOP_URL_MISMATCH'],
    ] as const) {
      const refused = await ask(proof);
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(code);
    }
  });
});
