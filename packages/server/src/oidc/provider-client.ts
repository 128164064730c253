/**
 * One configured OpenID provider, spoken to through `openid-client` (loaded
 * only when a provider is configured). Discovery happens on first use and is
 * cached, so a provider that is down at start delays nothing but its own
 * sign-ins. Every protocol check (state, `iss` response parameter, PKCE, the
 * ID token's signature, `iss`, `aud`, `exp`, `nonce`) is openid-client's.
 */
import { createPrivateKey } from 'node:crypto';
import { createRemoteJWKSet, importJWK, importPKCS8, type JWK } from 'jose';
import type * as OpenID from 'openid-client';
import type { OIDCProviderConfig } from '../config/oidc-resolve.js';
import type { Clock } from '../core/clock.js';
import { GatehouseError } from '../core/errors.js';

/** The `openid-client` module, imported lazily by whoever builds the clients. */
export type OpenIDClientModule = typeof OpenID;

/** How long a failed discovery is remembered before the next request tries again. */
const DISCOVERY_RETRY_MS = 5_000;
/** Seconds openid-client waits for the provider on each request. */
const PROVIDER_TIMEOUT_SECONDS = 10;

/** The provider's tokens after a grant; never sent to the browser. */
export interface ProviderTokens {
  readonly accessToken: string;
  /** Milliseconds since the epoch, or null when the provider did not say. */
  readonly accessTokenExpiresAt: number | null;
  readonly refreshToken: string | null;
  readonly idToken: string | null;
  readonly scope: string | null;
}

/** Who the provider says signed in (validated ID token claims). */
export interface ProviderIdentity {
  readonly issuer: string;
  readonly subject: string;
  /** The provider's session id (`sid`), for back-channel logout; null when it sends none. */
  readonly sid: string | null;
  readonly email: string | null;
  readonly emailVerified: boolean;
  readonly preferredUsername: string | null;
}

/** What {@link ProviderClient.redeem} checks the provider's answer against. */
export interface RedeemChecks {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

/** Why a callback failed, for the audit trail (never shown to the browser). */
export type CallbackFailure = 'state' | 'iss' | 'id_token' | 'nonce' | 'code' | 'response';

/** A rejected callback; `reason` says which check failed. */
export class CallbackRejected extends GatehouseError {
  readonly reason: CallbackFailure;

  constructor(reason: CallbackFailure, cause?: unknown) {
    super('OIDC_CALLBACK_REJECTED', { cause });
    this.reason = reason;
  }
}

export class ProviderClient {
  readonly config: OIDCProviderConfig;
  readonly #lib: OpenIDClientModule;
  readonly #clock: Clock;
  #configuration: Promise<OpenID.Configuration> | undefined;
  #failedAt = -Infinity;
  #jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  constructor(config: OIDCProviderConfig, lib: OpenIDClientModule, clock: Clock) {
    this.config = config;
    this.#lib = lib;
    this.#clock = clock;
  }

  /** The discovered configuration; `OIDC_PROVIDER_UNAVAILABLE` while discovery fails. */
  async configuration(): Promise<OpenID.Configuration> {
    if (this.#configuration === undefined) {
      if (Date.now() - this.#failedAt < DISCOVERY_RETRY_MS) throw new GatehouseError('OIDC_PROVIDER_UNAVAILABLE');
      this.#configuration = this.#discover();
      this.#configuration.catch(() => {
        this.#configuration = undefined;
        this.#failedAt = Date.now();
      });
    }
    try {
      return await this.#configuration;
    } catch (error) {
      throw new GatehouseError('OIDC_PROVIDER_UNAVAILABLE', { cause: error });
    }
  }

  async #discover(): Promise<OpenID.Configuration> {
    const lib = this.#lib;
    const { clientAuth } = this.config;
    const auth = clientAuth.method === 'private_key_jwt' ? lib.PrivateKeyJwt(await importClientKey(clientAuth.privateKey)) : lib.ClientSecretBasic(clientAuth.secret);
    const configuration = await lib.discovery(new URL(this.config.issuer), this.config.clientId, undefined, auth, {
      timeout: PROVIDER_TIMEOUT_SECONDS,
      ...(this.config.allowInsecureRequests ? { execute: [lib.allowInsecureRequests] } : {}),
    });
    configuration.timeout = PROVIDER_TIMEOUT_SECONDS;
    // Verify the ID token's signature with the provider's published keys even though it came straight
    // from the token endpoint: TLS alone would accept a token signed by anyone (or not at all) on that path.
    lib.enableNonRepudiationChecks(configuration);
    return configuration;
  }

  /** The provider's authorization endpoint URL for a new sign-in (code flow, PKCE S256, state, nonce). */
  async authorizationURL(checks: RedeemChecks): Promise<URL> {
    const configuration = await this.configuration();
    return this.#lib.buildAuthorizationUrl(configuration, {
      redirect_uri: this.config.redirectURI,
      response_type: 'code',
      scope: this.config.scopes.join(' '),
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: await this.#lib.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
    });
  }

  /**
   * Checks the authorization response in `query` and redeems its code.
   * Throws {@link CallbackRejected} naming the failed check, `OIDC_PROVIDER_DENIED`
   * when the provider answered with an error, `OIDC_PROVIDER_UNAVAILABLE` when
   * it cannot be reached.
   */
  async redeem(query: URLSearchParams, checks: RedeemChecks): Promise<{ identity: ProviderIdentity; tokens: ProviderTokens }> {
    const configuration = await this.configuration();
    const issuer = configuration.serverMetadata().issuer;
    // openid-client checks these too; checking them first names the failure precisely in the audit trail.
    if (query.get('state') !== checks.state) throw new CallbackRejected('state');
    const iss = query.get('iss');
    if (iss !== null ? iss !== issuer : configuration.serverMetadata().authorization_response_iss_parameter_supported === true) {
      throw new CallbackRejected('iss');
    }
    // The redirect URI as registered, whatever host or scheme the request reached us under (a proxy in front).
    const callback = new URL(this.config.redirectURI);
    callback.search = query.toString();
    let response: Awaited<ReturnType<OpenIDClientModule['authorizationCodeGrant']>>;
    try {
      response = await this.#lib.authorizationCodeGrant(configuration, callback, {
        pkceCodeVerifier: checks.codeVerifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw this.#translate(error);
    }
    const claims = response.claims();
    if (claims === undefined) throw new CallbackRejected('id_token');
    const sid = typeof claims['sid'] === 'string' && claims['sid'] !== '' ? claims['sid'] : null;
    return {
      identity: {
        issuer: claims.iss,
        subject: claims.sub,
        sid,
        email: typeof claims['email'] === 'string' ? claims['email'] : null,
        emailVerified: claims['email_verified'] === true,
        preferredUsername: typeof claims['preferred_username'] === 'string' ? claims['preferred_username'] : null,
      },
      tokens: toTokens(response, this.#clock.now()),
    };
  }

  /** Uses a refresh token at the provider; `OIDC_PROVIDER_UNAVAILABLE` or `OIDC_PROVIDER_DENIED` on failure. */
  async refresh(refreshToken: string): Promise<ProviderTokens> {
    const configuration = await this.configuration();
    try {
      return toTokens(await this.#lib.refreshTokenGrant(configuration, refreshToken), this.#clock.now());
    } catch (error) {
      if (error instanceof this.#lib.ResponseBodyError) throw new GatehouseError('OIDC_PROVIDER_DENIED', { cause: error });
      throw new GatehouseError('OIDC_PROVIDER_UNAVAILABLE', { cause: error });
    }
  }

  /** The provider's end-session URL (RP-initiated logout), or null when it has none. */
  async endSessionURL(idTokenHint: string | null): Promise<URL | null> {
    const configuration = await this.configuration();
    if (configuration.serverMetadata().end_session_endpoint === undefined) return null;
    return this.#lib.buildEndSessionUrl(configuration, {
      post_logout_redirect_uri: this.config.postLogoutRedirectURI,
      client_id: this.config.clientId,
      ...(idTokenHint === null ? {} : { id_token_hint: idTokenHint }),
    });
  }

  /** The issuer identifier discovery confirmed, and the keys and algorithms its tokens are signed with. */
  async signingKeys(): Promise<{ issuer: string; jwks: ReturnType<typeof createRemoteJWKSet>; algorithms: string[] }> {
    const metadata = (await this.configuration()).serverMetadata();
    if (metadata.jwks_uri === undefined) throw new GatehouseError('OIDC_PROVIDER_UNAVAILABLE');
    this.#jwks ??= createRemoteJWKSet(new URL(metadata.jwks_uri), { timeoutDuration: PROVIDER_TIMEOUT_SECONDS * 1000 });
    // Only asymmetric algorithms: a logout token is never checked with the client secret, and never unsigned.
    const advertised = metadata.id_token_signing_alg_values_supported ?? ['RS256'];
    const algorithms = advertised.filter((alg) => alg !== 'none' && !alg.startsWith('HS'));
    return { issuer: metadata.issuer, jwks: this.#jwks, algorithms };
  }

  #translate(error: unknown): GatehouseError {
    const lib = this.#lib;
    if (error instanceof GatehouseError) return error;
    if (error instanceof lib.AuthorizationResponseError) return new GatehouseError('OIDC_PROVIDER_DENIED', { cause: error });
    // The token endpoint refused the code (used before, expired, PKCE mismatch).
    if (error instanceof lib.ResponseBodyError) return new CallbackRejected('code', error);
    const code = (error as { code?: unknown }).code;
    if (code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED') return new CallbackRejected(comparedClaim(error) === 'nonce' ? 'nonce' : 'id_token', error);
    if (code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || code === 'OAUTH_RESPONSE_IS_NOT_JSON') return new GatehouseError('OIDC_PROVIDER_UNAVAILABLE', { cause: error });
    if (typeof code === 'string' && code.startsWith('OAUTH_')) {
      // In a code-flow token response the only JWT is the ID token: a bad alg or signature is the ID token's fault.
      return new CallbackRejected(idTokenCodes.has(code) || /\bJW[ST]\b|signature/.test(innermostMessage(error)) ? 'id_token' : 'response', error);
    }
    // fetch failures and timeouts
    return new GatehouseError('OIDC_PROVIDER_UNAVAILABLE', { cause: error });
  }
}

/** The message of the deepest cause (openid-client wraps oauth4webapi's errors). */
function innermostMessage(error: unknown): string {
  let message = '';
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 4; depth++) {
    message = current.message;
    current = current.cause;
  }
  return message;
}

/** The claim a failed comparison was about; openid-client nests oauth4webapi's error as its cause. */
function comparedClaim(error: unknown): unknown {
  for (let current: unknown = error, depth = 0; current !== null && typeof current === 'object' && depth < 4; depth++) {
    const claim = (current as { claim?: unknown }).claim;
    if (claim !== undefined) return claim;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** oauth4webapi codes that mean the ID token itself was unacceptable. */
const idTokenCodes = new Set([
  'OAUTH_JWT_TIMESTAMP_CHECK_FAILED',
  'OAUTH_JWS_SIGNATURE_VERIFICATION_FAILED',
  'OAUTH_KEY_SELECTION_FAILED',
  'OAUTH_UNSUPPORTED_OPERATION',
  'OAUTH_JWT_USERINFO_EXPECTED',
]);

function toTokens(response: OpenID.TokenEndpointResponse & OpenID.TokenEndpointResponseHelpers, now: number): ProviderTokens {
  const expiresIn = response.expiresIn();
  return {
    accessToken: response.access_token,
    accessTokenExpiresAt: expiresIn === undefined ? null : now + expiresIn * 1000,
    refreshToken: response.refresh_token ?? null,
    idToken: response.id_token ?? null,
    scope: response.scope ?? null,
  };
}

/** A private JWK (with `alg`) or a PKCS#8 PEM, as a key openid-client signs client assertions with. */
async function importClientKey(text: string): Promise<OpenID.PrivateKey> {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const jwk = JSON.parse(trimmed) as JWK;
    if (typeof jwk.alg !== 'string') throw new GatehouseError('CONFIG_INVALID', { message: 'oidc: a private JWK for private_key_jwt needs "alg"' });
    const key = await importJWK(jwk, jwk.alg);
    if (key instanceof Uint8Array) throw new GatehouseError('CONFIG_INVALID', { message: 'oidc: the private_key_jwt key must be asymmetric' });
    return jwk.kid === undefined ? { key } : { key, kid: jwk.kid };
  }
  const type = createPrivateKey(trimmed).asymmetricKeyType;
  const alg = type === 'ed25519' ? 'EdDSA' : type === 'ec' ? 'ES256' : type === 'rsa' ? 'RS256' : undefined;
  if (alg === undefined) throw new GatehouseError('CONFIG_INVALID', { message: `oidc: unsupported private_key_jwt key type ${type ?? 'unknown'}` });
  return { key: await importPKCS8(trimmed, alg) };
}
