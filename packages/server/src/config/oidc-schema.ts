import { z } from 'zod';

/**
 * The `oidc` section of the configuration: OpenID Connect providers users
 * sign in with, and trusted login apps whose short-lived JWTs open a session.
 * Kept apart from `schema.ts` so the main schema stays readable; cross-field
 * rules (exactly one client credential, unique ids) live in `oidc-resolve.ts`.
 */

/** Provider and login-app ids appear in paths (`/auth/oidc/<id>/login`) and cookie names. */
const id = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, 'must be 1-32 of a-z, 0-9 and -, not starting or ending with -');

/** An absolute http(s) URL without credentials or fragment. Whether plain http is allowed is decided in resolve. */
const httpURL = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '' && url.hash === '';
  } catch {
    return false;
  }
}, 'must be an absolute https:// URL without credentials or fragment');

/** A path on this origin: starts with one `/`, no scheme, host, backslash or control character. */
const localPath = z
  .string()
  .max(512)
  .regex(/^\/(?![/\\])[^\\\s]*$/, 'must be a path on this origin, such as "/" or "/signed-out"');

const scope = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/, 'must be an OAuth scope token');

export const oidcProviderSchema = z
  .object({
    /** Appears in `/auth/oidc/<id>/…`; the SDK's `login({ provider: id })`. */
    id,
    /** What a "Sign in with …" button shows. Default: the id. */
    displayName: z.string().min(1).max(64).optional(),
    /** The provider's issuer identifier; its discovery document is read from `<issuer>/.well-known/openid-configuration`. */
    issuer: httpURL,
    clientId: z.string().min(1).max(256),
    /** The client secret (`client_secret_basic`). Prefer `clientSecretFile`. */
    clientSecret: z.string().min(1).optional(),
    /** Read the client secret from this file (trailing newline ignored). */
    clientSecretFile: z.string().min(1).optional(),
    /** A private JWK (JSON) or PKCS#8 PEM file: authenticate with `private_key_jwt` instead of a secret. */
    privateKeyFile: z.string().min(1).optional(),
    /** Requested scopes; must include `openid`. */
    scopes: z.array(scope).min(1).default(['openid', 'profile', 'email']),
    /** Create a Gatehouse user on the first sign-in of an unknown (issuer, subject). Off: only linked accounts sign in. */
    createUsers: z.boolean().default(true),
    /** Where the provider sends the browser back after RP-initiated logout. */
    postLogoutRedirectPath: localPath.default('/'),
  })
  .strict();

export const loginAppSchema = z
  .object({
    /** Appears in `POST /auth/login-app/<id>`. */
    id,
    /** The `iss` the app's tokens must carry. */
    issuer: z.string().min(1).max(512),
    /** Where the issuer publishes its public keys. */
    jwksUrl: httpURL,
    /** The `aud` the tokens must carry. Default: `publicOrigin`. */
    audience: z.string().min(1).max(512).optional(),
    /** Pages (origins) allowed to call the endpoint; CORS is answered for these only. */
    allowedOrigins: z.array(z.string().min(1)).min(1),
    /** Accepted JWS algorithms; symmetric ones are never accepted. */
    algorithms: z.array(z.enum(['EdDSA', 'ES256', 'ES384', 'RS256', 'PS256'])).min(1).default(['EdDSA', 'ES256', 'RS256']),
    /** Longest accepted lifetime (`exp` − `iat`). */
    maxLifetimeSeconds: z.number().int().min(5).max(60).default(60),
    /**
     * `linked`: `sub` is the app's own user id, linked by (issuer, subject) like an OpenID provider's.
     * `username`: `sub` is a Gatehouse username (a first-party login app that may sign in any user).
     */
    subject: z.enum(['linked', 'username']).default('linked'),
    /** With `subject: "linked"`, create a user for an unknown (issuer, subject). */
    createUsers: z.boolean().default(false),
  })
  .strict();

export const oidcSchema = z
  .object({
    providers: z.array(oidcProviderSchema).max(32).default([]),
    /** How long a sign-in at a provider may take, from `/login` to the callback. */
    transactionTtlSeconds: z.number().int().min(60).max(3600).default(600),
    loginApps: z.array(loginAppSchema).max(32).default([]),
  })
  .strict()
  .default({ providers: [], transactionTtlSeconds: 600, loginApps: [] });
