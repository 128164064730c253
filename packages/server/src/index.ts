/**
 * Gatehouse: authentication and sessions for single-page apps.
 *
 * @packageDocumentation
 */
export { createGatehouse, type CreateGatehouseOptions, type Gatehouse, type Guard } from './gatehouse.js';
export { loadConfig, ENVIRONMENT_VARIABLES, DEFAULT_CONFIG_FILE, type LoadConfigOptions } from './config/load.js';
export { resolveConfig, type GatehouseConfig, type CookieConfig, type DatabaseConfig, type GatewayConfig, type GatewayRoute } from './config/resolve.js';
export type { ConfigInput } from './config/schema.js';
export { GatehouseError, isGatehouseError, ERRORS, type ErrorCode } from './core/errors.js';
export { systemClock, ManualClock, type Clock } from './core/clock.js';
export type { AuthService, PublicUser, ClientContext, IssuedSession } from './core/auth-service.js';
export type { RoleChange } from './core/roles.js';
export type { Auth, GuardOptions, GuardOutcome, GuardRequest } from './http/guard.js';
export { jsonResponse, errorResponse } from './http/responses.js';
export type { SigningKeySet, SigningKeyPhase } from './core/signing-keys.js';
export { JWKS_PATH } from './http/jwks-route.js';
export { openSQLiteStore, SQLiteStore } from './store/sqlite/sqlite-store.js';
export { openPostgresStore, type PostgresStore, type PostgresStoreOptions } from './store/postgres/open.js';
export type * from './store/store.js';
export { signRequest, type RequestToSign, type SignRequestOptions, type SignatureHeaders } from './signatures/signer.js';
export {
  hmacSignatureKey,
  ed25519VerificationKey,
  ed25519SigningKey,
  type SignatureAlgorithm,
  type SignatureSigningKey,
  type SignatureVerificationKey,
} from './signatures/keys.js';
export {
  SignatureVerifier,
  type SignatureVerifierOptions,
  type SignatureKeyLookup,
  type VerifiedSignature,
  type ConsumeOnce,
} from './signatures/verifier.js';
export { contentDigest, type DigestAlgorithm } from './signatures/content-digest.js';
