/**
 * A real OpenID provider for tests: panva's certified `oidc-provider`, on its
 * own loopback port, with its development login and consent pages (any
 * login name, any password), back-channel and RP-initiated logout, and two
 * clients for Gatehouse (`client_secret_basic` and `private_key_jwt`).
 *
 * Attacks that need a misbehaving provider go through `tamper`: hooks in
 * front of the provider's own endpoints that rewrite a real request or
 * response (the ID token in the token response, the nonce in the
 * authorization request). Everything else is the provider as shipped.
 */
// Referenced (not only included) so that every program using this file gets it: the client's and the examples' tests too.
/// <reference path="./oidc-provider.d.ts" />
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
// oidc-provider ships no types: what the tests use is declared in oidc-provider.d.ts.
import Provider, { type ProviderClient, type ProviderContext } from 'oidc-provider';

export interface TokenResponseBody {
  access_token: string;
  id_token?: string;
  refresh_token?: string;
  [key: string]: unknown;
}

export interface ProviderTamper {
  /** Rewrites the JSON body of the next token responses (the authorization code and refresh grants). */
  tokenResponse?: (body: TokenResponseBody) => TokenResponseBody | Promise<TokenResponseBody>;
  /** Rewrites the query of authorization requests before the provider reads it. */
  authorizationRequest?: (query: URLSearchParams) => void;
}

export interface TestProvider {
  readonly issuer: string;
  /** The provider's signing key (private), to forge tokens signed as the provider would. */
  readonly signingKey: JWK;
  /** Client ids registered for Gatehouse: `gatehouse` (secret) and `gatehouse-jwt` (private_key_jwt). */
  readonly clients: { readonly secret: { id: string; secret: string }; readonly privateKeyJWT: { id: string; privateKey: JWK } };
  readonly tamper: ProviderTamper;
  /** The provider instance (oidc-provider API), e.g. for `Client.find(...).backchannelLogout(sub, sid)`. */
  readonly provider: Provider;
  /** Counts of token endpoint requests, by grant type. */
  readonly grants: Map<string, number>;
  close(): Promise<void>;
}

/**
 * Starts the provider. `gatehouseOrigin` is where Gatehouse runs (its
 * redirect, post-logout and back-channel URIs are registered for providers
 * `demo` and `corp` under it).
 */
export async function startTestProvider(options: { readonly gatehouseOrigin: string; readonly accessTokenTtlSeconds?: number }): Promise<TestProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const signing = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(signing.privateKey)), kid: 'provider-key-1', alg: 'RS256', use: 'sig' };
  const clientKeys = await generateKeyPair('ES256', { extractable: true });
  const clientPrivate = { ...(await exportJWK(clientKeys.privateKey)), kid: 'gatehouse-client-key', alg: 'ES256' };
  const clientPublic = { ...(await exportJWK(clientKeys.publicKey)), kid: 'gatehouse-client-key', alg: 'ES256', use: 'sig' };
  const secret = 'client-secret-for-tests-0123456789abcdef';

  const clientFor = (providerId: string) => ({
    redirect_uris: [`${options.gatehouseOrigin}/auth/oidc/${providerId}/callback`],
    post_logout_redirect_uris: [`${options.gatehouseOrigin}/`, `${options.gatehouseOrigin}/signed-out`],
    backchannel_logout_uri: `${options.gatehouseOrigin}/auth/oidc/${providerId}/backchannel-logout`,
    backchannel_logout_session_required: true,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  });

  const provider = new Provider(issuer, {
    clients: [
      { client_id: 'gatehouse', client_secret: secret, token_endpoint_auth_method: 'client_secret_basic', ...clientFor('demo') },
      { client_id: 'gatehouse-jwt', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256', jwks: { keys: [clientPublic] }, ...clientFor('corp') },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: ['provider-cookie-key-for-tests-0123456789'] },
    features: {
      devInteractions: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['preferred_username', 'name'] },
    async findAccount(_ctx: ProviderContext, id: string) {
      return {
        accountId: id,
        async claims() {
          return { sub: id, email: `${id}@idp.example.test`, email_verified: true, preferred_username: id, name: id };
        },
      };
    },
    pkce: { required: () => true },
    async issueRefreshToken(_ctx: ProviderContext, client: ProviderClient) {
      return client.grantTypeAllowed('refresh_token');
    },
    // Profile and e-mail claims in the ID token itself, as many providers send them.
    conformIdTokenClaims: false,
    ttl: { AccessToken: options.accessTokenTtlSeconds ?? 3600, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600, RefreshToken: 86400 },
    // Gatehouse runs on loopback here, which the provider's SSRF guard refuses for back-channel calls: allow it, in tests only.
    fetch(url: string, init: RequestInit & { dispatcher?: unknown }) {
      const { dispatcher: _loopbackRefused, ...rest } = init;
      return fetch(url, rest);
    },
    renderError(ctx: ProviderContext, out: Record<string, unknown>) {
      ctx.type = 'json';
      ctx.body = out;
    },
  });
  provider.on('server_error', (_ctx: ProviderContext, error: Error) => {
    console.error('oidc-provider server_error', error);
  });

  const tamper: ProviderTamper = {};
  const grants = new Map<string, number>();
  provider.use(async (ctx: ProviderContext, next: () => Promise<void>) => {
    if (ctx.path === '/auth' && tamper.authorizationRequest !== undefined) {
      const query = new URLSearchParams(ctx.querystring);
      tamper.authorizationRequest(query);
      ctx.querystring = query.toString();
    }
    await next();
    if (ctx.path === '/token' && ctx.method === 'POST') {
      const grant = String(ctx.oidc?.params?.grant_type ?? 'unknown');
      grants.set(grant, (grants.get(grant) ?? 0) + 1);
      if (tamper.tokenResponse !== undefined && ctx.status === 200 && ctx.body !== null && typeof ctx.body === 'object') {
        ctx.body = await tamper.tokenResponse(ctx.body as TokenResponseBody);
      }
    }
  });

  server.on('request', provider.callback());
  return {
    issuer,
    signingKey,
    clients: { secret: { id: 'gatehouse', secret }, privateKeyJWT: { id: 'gatehouse-jwt', privateKey: clientPrivate } },
    tamper,
    provider,
    grants,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
