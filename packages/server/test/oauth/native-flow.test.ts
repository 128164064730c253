/**
 * Native apps (RFC 8252) driven by openid-client, a standard client nobody
 * here wrote: discovery from the RFC 8414 metadata, authorization code with
 * PKCE S256, refresh rotation and revocation (RFC 7009). The sessions are
 * ordinary Gatehouse sessions: listed, guarded, ended by revoke-all.
 */
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, signIn, startOAuthServer, type OAuthTestServer } from './oauth-server.js';

let server: OAuthTestServer;
let app: oidc.Configuration;
const REDIRECT = 'http://127.0.0.1/callback';

beforeAll(async () => {
  server = await startOAuthServer();
  await server.addClient({ id: 'mobile', type: 'native', redirectURIs: [REDIRECT], scopes: ['profile', 'notes'] });
  app = await oidc.discovery(new URL(server.origin), 'mobile', undefined, oidc.None(), { execute: [oidc.allowInsecureRequests], algorithm: 'oauth2' });
});
afterAll(async () => {
  await server?.close();
});

/** The whole native sign-in, as an app would run it; the redirect lands on a loopback port of the app's choosing. */
async function nativeSignIn(scope = 'profile') {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(app, {
    redirect_uri: 'http://127.0.0.1:49152/callback',
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const { location } = await signIn(server, url.href);
  if (location === null) throw new Error('no redirect');
  return oidc.authorizationCodeGrant(app, new URL(location), { pkceCodeVerifier: verifier, expectedState: state });
}

const bearer = (token: string) => fetch(`${server.origin}/api/private`, { headers: { authorization: `Bearer ${token}` } });

describe('server metadata (RFC 8414)', () => {
  it('names the endpoints and offers only code + PKCE S256, refresh and client credentials', async () => {
    const response = await fetch(`${server.origin}/.well-known/oauth-authorization-server`);
    expect(response.status).toBe(200);
    const metadata = (await response.json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: server.origin,
      authorization_endpoint: `${server.origin}/oauth/authorize`,
      token_endpoint: `${server.origin}/oauth/token`,
      revocation_endpoint: `${server.origin}/oauth/revoke`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
      authorization_response_iss_parameter_supported: true,
    });
    expect(app.serverMetadata().issuer).toBe(server.origin);
  });

  it('is not served, nor any /oauth route, when oauth is not enabled', async () => {
    const off = await startOAuthServer({ oauth: { enabled: false } });
    try {
      expect((await fetch(`${off.origin}/.well-known/oauth-authorization-server`)).status).toBe(404);
      expect((await fetch(`${off.origin}/oauth/token`, { method: 'POST' })).status).toBe(404);
    } finally {
      await off.close();
    }
  });
});

describe('authorization code with PKCE, through openid-client', () => {
  it('answers in the RFC 6749 §5.1 shape; the access token is an ordinary Gatehouse one, its session listed with the app', async () => {
    const tokens = await nativeSignIn('profile notes');
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'profile notes' });
    expect(tokens.expires_in).toBeGreaterThan(0);
    expect(typeof tokens.refresh_token).toBe('string');
    const me = await bearer(tokens.access_token);
    expect(me.status).toBe(200);
    const { sessionId } = (await me.json()) as { sessionId: string };
    // In the user's session list, like a browser's session, marked with the app that holds it.
    const listed = await fetch(`${server.origin}/auth/sessions`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    const { sessions } = (await listed.json()) as { sessions: { id: string; client: string | null; current: boolean }[] };
    expect(sessions.find((s) => s.id === sessionId)).toMatchObject({ client: 'mobile', current: true });
    const browser = await server.gatehouse.auth.login(ALICE, { ip: '127.0.0.1', userAgent: 'a browser' });
    const again = (await (await fetch(`${server.origin}/auth/sessions`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).json()) as { sessions: { id: string; client: string | null }[] };
    expect(again.sessions.find((s) => s.id === browser.session.id)).toMatchObject({ client: null });
  });

  it('the raw token response carries no-store and the standard fields', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(app, { redirect_uri: REDIRECT, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const { location } = await signIn(server, url.href);
    const code = new URL(location ?? '').searchParams.get('code') ?? '';
    expect(new URL(location ?? '').searchParams.get('iss')).toBe(server.origin);
    const response = await fetch(`${server.origin}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: 'mobile' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys((await response.json()) as object).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
  });

  it('refreshes with rotation; the rotated-out token, presented again after the grace window, ends the session', async () => {
    const first = await nativeSignIn();
    const second = await oidc.refreshTokenGrant(app, first.refresh_token ?? '');
    expect(second.refresh_token).not.toBe(first.refresh_token);
    const third = await oidc.refreshTokenGrant(app, second.refresh_token ?? '');
    expect((await bearer(third.access_token)).status).toBe(200);
    // The thief replays the first token after the grace window for lost responses: reuse.
    server.clock.advance(11_000);
    const reuse = await oidc.refreshTokenGrant(app, first.refresh_token ?? '').catch((e: unknown) => e);
    expect(reuse).toBeInstanceOf(oidc.ResponseBodyError);
    expect((reuse as oidc.ResponseBodyError).error).toBe('invalid_grant');
    // The whole session is gone: the legitimate app's token and access token with it.
    const after = await oidc.refreshTokenGrant(app, third.refresh_token ?? '').catch((e: unknown) => e);
    expect((after as oidc.ResponseBodyError).error).toBe('invalid_grant');
    expect((await bearer(third.access_token)).status).toBe(401);
  });

  it('revocation (RFC 7009) of the refresh token ends the session at once', async () => {
    const tokens = await nativeSignIn();
    await oidc.tokenRevocation(app, tokens.refresh_token ?? '');
    expect((await bearer(tokens.access_token)).status).toBe(401);
    const refused = await oidc.refreshTokenGrant(app, tokens.refresh_token ?? '').catch((e: unknown) => e);
    expect((refused as oidc.ResponseBodyError).error).toBe('invalid_grant');
  });

  it('revocation by access token ends the session too; an unknown token is answered 200', async () => {
    const tokens = await nativeSignIn();
    await oidc.tokenRevocation(app, tokens.access_token);
    expect((await bearer(tokens.access_token)).status).toBe(401);
    await expect(oidc.tokenRevocation(app, 'no-such-token')).resolves.toBeUndefined();
  });

  it("the user's revoke-all ends native sessions too", async () => {
    const tokens = await nativeSignIn();
    const user = await server.gatehouse.auth.findUser(ALICE.username);
    await server.gatehouse.auth.revokeAllSessions(user.id, ALICE.password, { ip: '127.0.0.1', userAgent: null });
    expect((await bearer(tokens.access_token)).status).toBe(401);
    const refused = await oidc.refreshTokenGrant(app, tokens.refresh_token ?? '').catch((e: unknown) => e);
    expect((refused as oidc.ResponseBodyError).error).toBe('invalid_grant');
  });
});
