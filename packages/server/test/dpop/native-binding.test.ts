/**
 * DPoP at the token endpoint (RFC 9449 §5), driven by openid-client's DPoP
 * support, a client nobody here wrote: a native app that proves a key when
 * it redeems its code gets `token_type: DPoP` and an access token bound to
 * that key (`cnf.jkt`), and every refresh of that session must prove the
 * same key, checked before the refresh token rotates. Server nonces are
 * handled by the client's own retry.
 */
import { calculateJwkThumbprint, decodeJwt, exportJWK } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startOAuthServer, type OAuthTestServer } from '../oauth/oauth-server.js';
import { generateKeyPair, generateProof } from './support.js';

const REDIRECT = 'http://127.0.0.1/callback';

interface App {
  readonly server: OAuthTestServer;
  readonly config: oidc.Configuration;
}

async function startApp(serverConfig: Parameters<typeof startOAuthServer>[0] = {}): Promise<App> {
  const server = await startOAuthServer(serverConfig);
  await server.addClient({ id: 'mobile', type: 'native', redirectURIs: [REDIRECT], scopes: ['notes'] });
  const config = await oidc.discovery(new URL(server.origin), 'mobile', undefined, oidc.None(), { execute: [oidc.allowInsecureRequests], algorithm: 'oauth2' });
  return { server, config };
}

/** The native sign-in as an app runs it; with `dpop`, the code is redeemed with a proof of its key. */
async function nativeSignIn(app: App, dpop?: oidc.DPoPHandle) {
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(app.config, { redirect_uri: REDIRECT, scope: 'notes', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
  const { location } = await signIn(app.server, url.href);
  if (location === null) throw new Error('no redirect');
  return { location, verifier, tokens: () => oidc.authorizationCodeGrant(app.config, new URL(location), { pkceCodeVerifier: verifier }, undefined, dpop === undefined ? {} : { DPoP: dpop }) };
}

const thumbprintOf = async (pair: Awaited<ReturnType<typeof generateKeyPair>>) => calculateJwkThumbprint(await exportJWK(pair.publicKey));

async function refusal(promise: Promise<unknown>): Promise<{ error: string; code: unknown }> {
  const error: unknown = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(oidc.ResponseBodyError);
  const body = error as oidc.ResponseBodyError;
  return { error: body.error, code: (body.cause as { code?: unknown }).code };
}

describe('DPoP at the token endpoint, with openid-client', () => {
  let app: App;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.server.close();
  });

  const privateURL = () => new URL(`${app.server.origin}/api/private`);

  it('the metadata names the accepted proof algorithms', async () => {
    expect(app.config.serverMetadata().dpop_signing_alg_values_supported).toEqual(['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256']);
  });

  it('a code redeemed with a proof yields token_type DPoP and an access token bound to the key; the API accepts it with proofs only', async () => {
    const keys = await oidc.randomDPoPKeyPair('ES256');
    const dpop = oidc.getDPoPHandle(app.config, keys);
    const tokens = await (await nativeSignIn(app, dpop)).tokens();
    expect(tokens.token_type).toBe('dpop');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: await thumbprintOf(keys) });
    const response = await oidc.fetchProtectedResource(app.config, tokens.access_token, privateURL(), 'GET', undefined, undefined, { DPoP: dpop });
    expect(response.status).toBe(200);
    // The same token stolen and sent as Bearer is worthless.
    const stolen = await fetch(privateURL(), { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(stolen.status).toBe(401);
    expect(((await stolen.json()) as { error: { code: string } }).error.code).toBe('DPOP_TOKEN_WITHOUT_PROOF');
  });

  it('a refresh with the same key rotates and stays bound', async () => {
    const keys = await oidc.randomDPoPKeyPair('ES256');
    const dpop = oidc.getDPoPHandle(app.config, keys);
    const first = await (await nativeSignIn(app, dpop)).tokens();
    const second = await oidc.refreshTokenGrant(app.config, first.refresh_token ?? '', undefined, { DPoP: dpop });
    expect(second.token_type).toBe('dpop');
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(decodeJwt(second.access_token).cnf).toEqual({ jkt: await thumbprintOf(keys) });
    expect((await oidc.fetchProtectedResource(app.config, second.access_token, privateURL(), 'GET', undefined, undefined, { DPoP: dpop })).status).toBe(200);
  });

  it('a stolen bound refresh token is worthless: with another key or no proof it is refused before it rotates', async () => {
    const keys = await oidc.randomDPoPKeyPair('ES256');
    const dpop = oidc.getDPoPHandle(app.config, keys);
    const tokens = await (await nativeSignIn(app, dpop)).tokens();
    const thief = oidc.getDPoPHandle(app.config, await oidc.randomDPoPKeyPair('ES256'));
    expect(await refusal(oidc.refreshTokenGrant(app.config, tokens.refresh_token ?? '', undefined, { DPoP: thief }))).toEqual({ error: 'invalid_dpop_proof', code: 'DPOP_KEY_MISMATCH' });
    expect(await refusal(oidc.refreshTokenGrant(app.config, tokens.refresh_token ?? ''))).toEqual({ error: 'invalid_dpop_proof', code: 'DPOP_PROOF_MISSING' });
    // Nothing rotated: the app's own refresh, much later than the grace window, still works (no reuse was recorded).
    app.server.clock.advance(30_000);
    await expect(oidc.refreshTokenGrant(app.config, tokens.refresh_token ?? '', undefined, { DPoP: dpop })).resolves.toMatchObject({ token_type: 'dpop' });
  });

  it('a bearer session stays bearer: refreshing it with a proof is refused (DPOP_TOKEN_NOT_BOUND), without a proof it works', async () => {
    const tokens = await (await nativeSignIn(app)).tokens();
    expect(tokens.token_type).toBe('bearer');
    expect(decodeJwt(tokens.access_token).cnf).toBeUndefined();
    const dpop = oidc.getDPoPHandle(app.config, await oidc.randomDPoPKeyPair('ES256'));
    expect(await refusal(oidc.refreshTokenGrant(app.config, tokens.refresh_token ?? '', undefined, { DPoP: dpop }))).toEqual({ error: 'invalid_dpop_proof', code: 'DPOP_TOKEN_NOT_BOUND' });
    await expect(oidc.refreshTokenGrant(app.config, tokens.refresh_token ?? '')).resolves.toMatchObject({ token_type: 'bearer' });
  });

  it('a bad proof at the token endpoint is 400 invalid_dpop_proof with the cause, and spends nothing: the code still redeems', async () => {
    const { location, verifier } = await nativeSignIn(app);
    const code = new URL(location).searchParams.get('code') ?? '';
    const keys = await generateKeyPair('ES256');
    const form = () => new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: 'mobile' });
    const post = async (proof: string) => fetch(`${app.server.origin}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: proof }, body: form() });
    for (const [proof, cause] of [
      [await generateProof(keys, `${app.server.origin}/oauth/revoke`, 'POST'), 'DPOP_URL_MISMATCH'],
      [await generateProof(keys, `${app.server.origin}/oauth/token`, 'GET'), 'DPOP_METHOD_MISMATCH'],
      ['not-a-proof', 'DPOP_PROOF_MALFORMED'],
    ] as const) {
      const response = await post(proof);
      expect(response.status).toBe(400);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await response.json()).toMatchObject({ error: 'invalid_dpop_proof', code: cause });
    }
    const good = await generateProof(keys, `${app.server.origin}/oauth/token`, 'POST');
    const answer = await post(good);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ token_type: 'DPoP' });
    // The proof is single use at the token endpoint too.
    const again = await post(good);
    expect(await again.json()).toMatchObject({ error: 'invalid_dpop_proof', code: 'DPOP_PROOF_REPLAYED' });
  });
});

describe('server nonces (dpop.requireNonce), through openid-client\'s own retry', () => {
  let app: App;
  beforeAll(async () => {
    app = await startApp({ dpop: { requireNonce: true } });
  });
  afterAll(async () => {
    await app?.server.close();
  });

  it('the token endpoint answers use_dpop_nonce with a DPoP-Nonce, and the client succeeds with it', async () => {
    const { location, verifier } = await nativeSignIn(app);
    const code = new URL(location).searchParams.get('code') ?? '';
    const keys = await generateKeyPair('ES256');
    const response = await fetch(`${app.server.origin}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await generateProof(keys, `${app.server.origin}/oauth/token`, 'POST') },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: 'mobile' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'use_dpop_nonce', code: 'DPOP_NONCE_REQUIRED' });
    const nonce = response.headers.get('dpop-nonce') ?? '';
    expect(nonce).not.toBe('');
    const retried = await fetch(`${app.server.origin}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await generateProof(keys, `${app.server.origin}/oauth/token`, 'POST', nonce) },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: 'mobile' }),
    });
    expect(await retried.json()).toMatchObject({ token_type: 'DPoP' });
  });

  it('openid-client learns the nonce from the token endpoint\'s use_dpop_nonce, retries by itself, and its proofs at the API carry it', async () => {
    const dpop = oidc.getDPoPHandle(app.config, await oidc.randomDPoPKeyPair('ES256'));
    const tokens = await (await nativeSignIn(app, dpop)).tokens();
    expect(tokens.token_type).toBe('dpop');
    const response = await oidc.fetchProtectedResource(app.config, tokens.access_token, new URL(`${app.server.origin}/api/private`), 'GET', undefined, undefined, { DPoP: dpop });
    expect(response.status).toBe(200);
  });
});
