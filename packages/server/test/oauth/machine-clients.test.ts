/**
 * Machine clients: client credentials with client_secret_basic and
 * private_key_jwt (RFC 7523) driven by openid-client, tokens of their own
 * kind carrying the client, its scopes and the audience; introspection
 * (RFC 7662); and the attacks: a wrong secret, a replayed or misaddressed
 * assertion, another client's credentials, a machine token where a user is
 * required and a user's token where scopes are.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, importPKCS8, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, formPost, signIn, startOAuthServer, type OAuthTestServer } from './oauth-server.js';

let server: OAuthTestServer;
let reportsSecret: string;
let auditorSecret: string;
const signerKeys = generateKeyPairSync('ed25519');

beforeAll(async () => {
  server = await startOAuthServer({ signing: { algorithm: 'EdDSA' } });
  reportsSecret = (await server.addClient({ id: 'reports-job', type: 'machine', scopes: ['reports:read', 'reports:write'] })) ?? '';
  auditorSecret = (await server.addClient({ id: 'auditor', type: 'machine', scopes: ['audit:read', 'introspect'] })) ?? '';
  await server.addClient({ id: 'signer-job', type: 'machine', scopes: ['reports:read'], publicKey: signerKeys.publicKey.export({ type: 'spki', format: 'pem' }).toString() });
  await server.addClient({ id: 'mobile', type: 'native', redirectURIs: ['http://127.0.0.1/callback'], scopes: [] });
});
afterAll(async () => {
  await server?.close();
});

const configFor = (id: string, auth: oidc.ClientAuth) =>
  oidc.discovery(new URL(server.origin), id, undefined, auth, { execute: [oidc.allowInsecureRequests], algorithm: 'oauth2' });
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const tokenRequest = (fields: Record<string, string>, headers: Record<string, string> = {}) => formPost(`${server.origin}/oauth/token`, fields, headers);
const reports = (token: string) => fetch(`${server.origin}/api/reports`, { headers: { authorization: `Bearer ${token}` } });
const privateRoute = (token: string) => fetch(`${server.origin}/api/private`, { headers: { authorization: `Bearer ${token}` } });

/** A private_key_jwt assertion as RFC 7523 §3 describes it, with fields to spoil. */
function assertion(over: { iss?: string; aud?: string; exp?: number; jti?: string; key?: Parameters<SignJWT['sign']>[0]; alg?: string } = {}): Promise<string> {
  const now = Math.floor(server.clock.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: over.alg ?? 'EdDSA' })
    .setIssuer(over.iss ?? 'signer-job')
    .setSubject(over.iss ?? 'signer-job')
    .setAudience(over.aud ?? `${server.origin}/oauth/token`)
    .setIssuedAt(now)
    .setExpirationTime(over.exp ?? now + 60)
    .setJti(over.jti ?? randomUUID())
    .sign(over.key ?? signerKeys.privateKey);
}
const withAssertion = (jwt: string, extra: Record<string, string> = {}) =>
  tokenRequest({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt, ...extra });

async function expectInvalidClient(response: Response): Promise<void> {
  expect(response.status).toBe(401);
  expect(await response.json()).toMatchObject({ error: 'invalid_client' });
}

describe('client credentials through openid-client', () => {
  it('client_secret_basic: a token of the machine kind with the client as sub, its scopes and the audience', async () => {
    const config = await configFor('reports-job', oidc.ClientSecretBasic(reportsSecret));
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'reports:read' });
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'reports:read' });
    expect(tokens.refresh_token).toBeUndefined();
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ typ: 'gatehouse-client+jwt', alg: 'EdDSA' });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: 'reports-job', client_id: 'reports-job', scope: 'reports:read', aud: server.gatehouse.config.accessToken.audience });
    expect(await (await reports(tokens.access_token)).json()).toMatchObject({ client: 'reports-job', scopes: ['reports:read'] });
  });

  it('each token issued is audited with the client, scope and jti, never the token', async () => {
    const response = await tokenRequest({ grant_type: 'client_credentials', scope: 'reports:write' }, { authorization: basic('reports-job', reportsSecret) });
    const { access_token: token } = (await response.json()) as { access_token: string };
    const [event] = await server.gatehouse.store.listAudit({ type: 'client_token_issued', limit: 1 });
    expect(event?.detail).toEqual({ client: 'reports-job', scope: 'reports:write', jti: decodeJwt(token).jti });
    expect(JSON.stringify(event)).not.toContain(token.split('.')[2]);
    expect((await server.gatehouse.store.listAudit({ type: 'oauth_client_added' })).length).toBeGreaterThanOrEqual(4);
  });

  it('private_key_jwt: openid-client signs the assertion; the token works', async () => {
    const key = await importPKCS8(signerKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'EdDSA');
    const config = await configFor('signer-job', oidc.PrivateKeyJwt(key));
    const tokens = await oidc.clientCredentialsGrant(config);
    expect(tokens.scope).toBe('reports:read');
    expect((await reports(tokens.access_token)).status).toBe(200);
  });

  it('introspection (RFC 7662) by an authenticated resource server: active machine and user tokens, inactive once ended', async () => {
    const auditor = await configFor('auditor', oidc.ClientSecretBasic(auditorSecret));
    const machine = await oidc.clientCredentialsGrant(await configFor('reports-job', oidc.ClientSecretBasic(reportsSecret)));
    expect(await oidc.tokenIntrospection(auditor, machine.access_token)).toMatchObject({ active: true, client_id: 'reports-job', sub: 'reports-job', scope: 'reports:read reports:write' });
    // A native app's session, introspected with its client and scope.
    const app = await configFor('mobile', oidc.None());
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(app, { redirect_uri: 'http://127.0.0.1/callback', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const { location } = await signIn(server, url.href);
    const user = await oidc.authorizationCodeGrant(app, new URL(location ?? ''), { pkceCodeVerifier: verifier });
    expect(await oidc.tokenIntrospection(auditor, user.access_token)).toMatchObject({ active: true, username: ALICE.username, client_id: 'mobile' });
    // A change to the user since the token was issued (a role added) leaves it describing an older user: inactive.
    await server.gatehouse.auth.changeRoles(ALICE.username, { add: ['introspection-test'] });
    expect(await oidc.tokenIntrospection(auditor, user.access_token)).toEqual({ active: false });
    await server.gatehouse.auth.changeRoles(ALICE.username, { remove: ['introspection-test'] });
    await oidc.tokenRevocation(app, user.refresh_token ?? '');
    expect(await oidc.tokenIntrospection(auditor, user.access_token)).toEqual({ active: false });
    // Refresh tokens are never described.
    expect(await oidc.tokenIntrospection(auditor, user.refresh_token ?? '')).toEqual({ active: false });
  });

  it('a removed client\'s tokens are refused within the revocation sync, by the guard and by introspection', async () => {
    const secret = (await server.addClient({ id: 'temp-job', type: 'machine', scopes: ['reports:read'] })) ?? '';
    const response = await tokenRequest({ grant_type: 'client_credentials' }, { authorization: basic('temp-job', secret) });
    const { access_token: token } = (await response.json()) as { access_token: string };
    expect((await reports(token)).status).toBe(200);
    // As the CLI does it from another process: through the store only (this instance learns it by polling).
    expect(await server.gatehouse.store.deleteClient('temp-job', server.clock.now() + 1_000)).toEqual([]);
    let answer = await reports(token);
    for (let i = 0; i < 100 && answer.status === 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      answer = await reports(token);
    }
    expect(await answer.json()).toMatchObject({ error: { code: 'TOKEN_INVALID' } });
    const auditor = await configFor('auditor', oidc.ClientSecretBasic(auditorSecret));
    expect(await oidc.tokenIntrospection(auditor, token)).toEqual({ active: false });
  });

  it('introspection needs client authentication, and a client registered with the introspect scope', async () => {
    const anonymous = await formPost(`${server.origin}/oauth/introspect`, { token: 'x', client_id: 'mobile' });
    await expectInvalidClient(anonymous);
    await expectInvalidClient(await formPost(`${server.origin}/oauth/introspect`, { token: 'x' }));
    const notAllowed = await formPost(`${server.origin}/oauth/introspect`, { token: 'x' }, { authorization: basic('reports-job', reportsSecret) });
    expect(notAllowed.status).toBe(403);
    expect(await notAllowed.json()).toMatchObject({ error: 'unauthorized_client' });
  });
});

describe('machine tokens and the guard', () => {
  let token: string;
  beforeAll(async () => {
    const response = await tokenRequest({ grant_type: 'client_credentials', scope: 'reports:write' }, { authorization: basic('reports-job', reportsSecret) });
    token = ((await response.json()) as { access_token: string }).access_token;
  });

  it('are never accepted where a user is required', async () => {
    const answer = await privateRoute(token);
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ error: { code: 'TOKEN_INVALID' } });
  });

  it('need every scope the route requires (403 INSUFFICIENT_SCOPE)', async () => {
    const answer = await reports(token);
    expect(answer.status).toBe(403);
    expect(await answer.json()).toMatchObject({ error: { code: 'INSUFFICIENT_SCOPE' } });
  });

  it('a user\'s access token on a scope route is 403 INSUFFICIENT_SCOPE', async () => {
    const issued = await server.gatehouse.auth.login(ALICE, { ip: '127.0.0.1', userAgent: null });
    expect((await reports(issued.accessToken)).status).toBe(403);
  });

  it('expire after oauth.clientTokenTtlSeconds', async () => {
    const response = await tokenRequest({ grant_type: 'client_credentials', scope: 'reports:read' }, { authorization: basic('reports-job', reportsSecret) });
    const fresh = ((await response.json()) as { access_token: string; expires_in: number });
    expect(fresh.expires_in).toBe(600);
    expect((await reports(fresh.access_token)).status).toBe(200);
    server.clock.advance(601_000 + server.gatehouse.config.accessToken.clockToleranceSeconds * 1000);
    expect(await (await reports(fresh.access_token)).json()).toMatchObject({ error: { code: 'TOKEN_EXPIRED' } });
  });

  it('cannot be revoked by their client (unsupported_token_type); another client\'s attempt learns nothing', async () => {
    const response = await tokenRequest({ grant_type: 'client_credentials' }, { authorization: basic('reports-job', reportsSecret) });
    const own = ((await response.json()) as { access_token: string }).access_token;
    const mine = await formPost(`${server.origin}/oauth/revoke`, { token: own }, { authorization: basic('reports-job', reportsSecret) });
    expect(await mine.json()).toMatchObject({ error: 'unsupported_token_type' });
    const other = await formPost(`${server.origin}/oauth/revoke`, { token: own }, { authorization: basic('auditor', auditorSecret) });
    expect(other.status).toBe(200);
  });
});

describe('client authentication attacks', () => {
  it('a wrong secret, another client\'s secret, or a secret for a key client is invalid_client (401, WWW-Authenticate)', async () => {
    // Another last character: never the one the secret already ends with.
    const alteredSecret = `${reportsSecret.slice(0, -1)}${reportsSecret.endsWith('x') ? 'y' : 'x'}`;
    const wrong = await tokenRequest({ grant_type: 'client_credentials' }, { authorization: basic('reports-job', alteredSecret) });
    expect(wrong.headers.get('www-authenticate')).toContain('Basic');
    await expectInvalidClient(wrong);
    await expectInvalidClient(await tokenRequest({ grant_type: 'client_credentials' }, { authorization: basic('reports-job', auditorSecret) }));
    await expectInvalidClient(await tokenRequest({ grant_type: 'client_credentials' }, { authorization: basic('signer-job', reportsSecret) }));
    await expectInvalidClient(await tokenRequest({ grant_type: 'client_credentials' }, { authorization: basic('nobody', reportsSecret) }));
  });

  it('a scope the client was not given is invalid_scope', async () => {
    const response = await tokenRequest({ grant_type: 'client_credentials', scope: 'audit:read' }, { authorization: basic('reports-job', reportsSecret) });
    expect(await response.json()).toMatchObject({ error: 'invalid_scope' });
  });

  it('a native client naming itself cannot get client credentials; a secret in the body is refused', async () => {
    expect(await (await tokenRequest({ grant_type: 'client_credentials', client_id: 'mobile' })).json()).toMatchObject({ error: 'unauthorized_client' });
    expect(await (await tokenRequest({ grant_type: 'client_credentials', client_id: 'reports-job', client_secret: reportsSecret })).json()).toMatchObject({ error: 'invalid_request' });
  });

  it('an assertion is single use: the replay is invalid_client', async () => {
    const jwt = await assertion();
    expect((await withAssertion(jwt)).status).toBe(200);
    await expectInvalidClient(await withAssertion(jwt));
  });

  it.each([
    ['for another audience', { aud: 'https://elsewhere.example' }],
    ['expired', { exp: Math.floor(Date.now() / 1000) - 3600 }],
    ['living longer than 5 minutes', { exp: Math.floor(Date.now() / 1000) + 3600 }],
    ['signed with another key', { key: generateKeyPairSync('ed25519').privateKey }],
    ['claiming another client', { iss: 'reports-job' }],
  ])('an assertion %s is invalid_client', async (_why, over) => {
    await expectInvalidClient(await withAssertion(await assertion(over)));
  });

  it('an HS256 assertion keyed with anything, and alg none, are invalid_client', async () => {
    const now = Math.floor(server.clock.now() / 1000);
    const claims = { iss: 'signer-job', sub: 'signer-job', aud: `${server.origin}/oauth/token`, iat: now, exp: now + 60, jti: randomUUID() };
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(32)));
    await expectInvalidClient(await withAssertion(hs));
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    await expectInvalidClient(await withAssertion(none));
  });

  it('a client that names itself in the body and presents another client\'s assertion is invalid_client', async () => {
    await expectInvalidClient(await withAssertion(await assertion(), { client_id: 'reports-job' }));
  });
});
