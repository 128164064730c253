/**
 * Authorization codes: a JWE (`dir`, A256GCM) of its own `typ` under a key
 * of its own, so nobody can read or forge one, that binds the code to its
 * user, client, redirect URI, PKCE challenge and scope for `codeTtlSeconds`.
 * Single use is not in the code: the token endpoint consumes its `jti` once
 * across instances (`gatehouse.consumeOnce`).
 */
import type { KeyObject } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';

/** The JWE `typ` of an authorization code; no other Gatehouse value carries it. */
export const CODE_TYP = 'gatehouse-oauth-code+jwt';

export interface AuthorizationCode {
  /** The code's id: consumed once, and the key of the grant it opens. */
  readonly id: string;
  readonly userId: string;
  readonly clientId: string;
  readonly redirectURI: string;
  readonly codeChallenge: string;
  readonly scope: string;
  /** A fingerprint of the password hash at sign-in: a password changed before redemption voids the code. */
  readonly passwordVersion: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

interface CodeClaims {
  ru: string;
  cc: string;
  sc: string;
  pv: string;
}

/** Seals a new code for `fields`, valid for `ttlSeconds` from `now`. */
export async function sealAuthorizationCode(fields: Omit<AuthorizationCode, 'id' | 'expiresAt'>, key: KeyObject, now: number, ttlSeconds: number): Promise<{ code: string; id: string }> {
  const id = randomBytes(16).toString('base64url');
  const claims: CodeClaims = { ru: fields.redirectURI, cc: fields.codeChallenge, sc: fields.scope, pv: fields.passwordVersion };
  const code = await new EncryptJWT({ ...claims })
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', typ: CODE_TYP })
    .setJti(id)
    .setSubject(fields.userId)
    .setAudience(`oauth-client:${fields.clientId}`)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.floor(now / 1000) + ttlSeconds)
    .encrypt(key);
  return { code, id };
}

/**
 * Opens a code presented by `clientId`. Null when it is malformed, tampered
 * with, expired at `now`, or was issued to another client: the token
 * endpoint answers all of these alike (`invalid_grant`).
 */
export async function openAuthorizationCode(code: string, key: KeyObject, expected: { readonly clientId: string; readonly now: number }): Promise<AuthorizationCode | null> {
  if (code.length > 2048) return null;
  try {
    const { payload } = await jwtDecrypt<Partial<CodeClaims>>(code, key, {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
      typ: CODE_TYP,
      audience: `oauth-client:${expected.clientId}`,
      currentDate: new Date(expected.now),
      requiredClaims: ['jti', 'sub', 'exp', 'iat'],
      clockTolerance: 0,
    });
    const { ru, cc, sc, pv, jti, sub, exp } = payload;
    if (typeof ru !== 'string' || typeof cc !== 'string' || typeof sc !== 'string' || typeof pv !== 'string') return null;
    if (typeof jti !== 'string' || typeof sub !== 'string' || typeof exp !== 'number') return null;
    return { id: jti, userId: sub, clientId: expected.clientId, redirectURI: ru, codeChallenge: cc, scope: sc, passwordVersion: pv, expiresAt: exp * 1000 };
  } catch {
    return null;
  }
}
