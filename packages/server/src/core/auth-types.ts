import type { GatehouseConfig } from '../config/resolve.js';
import type { AuditEvent, SessionRecord, Store, UserRecord } from '../store/store.js';
import type { AccessTokenService } from './access-token.js';
import type { Clock } from './clock.js';
import type { KeyRing } from './keys.js';
import type { LoginThrottle } from './login-throttle.js';
import type { PasswordHasher } from './password.js';
import type { RevocationList } from './revocation-list.js';

// What the auth service is built from and what it answers with.

/** The user as every endpoint shows it. */
export interface PublicUser {
  readonly id: string;
  readonly username: string;
  readonly roles: readonly string[];
}

/** What the client needs after a login or refresh: the tokens go into cookies, never into a body for browsers. */
export interface IssuedSession {
  readonly user: PublicUser;
  readonly session: SessionRecord;
  readonly accessToken: string;
  readonly accessTokenExpiresAt: number;
  readonly refreshToken: string;
  /** Only on login: a fresh CSRF token bound to the new session. */
  readonly csrfToken: string | undefined;
}

/** Who is asking, for audit records and the session list. */
export interface ClientContext {
  readonly ip: string;
  readonly userAgent: string | null;
}

export interface AuthServiceDeps {
  readonly config: GatehouseConfig;
  readonly store: Store;
  readonly clock: Clock;
  readonly keys: KeyRing;
  readonly tokens: AccessTokenService;
  readonly hasher: PasswordHasher;
  readonly revocations: RevocationList;
  readonly throttle: LoginThrottle;
  /** Records an event that goes with no change of the store's (logs it, then appends it). */
  readonly audit: (event: AuditEvent) => Promise<void>;
  /** Logs an event the store has already written with the change it records. */
  readonly logAudit: (event: AuditEvent) => void;
}

/** Turns a stored user into what clients may see. */
export function publicUser(user: UserRecord): PublicUser {
  return { id: user.id, username: user.username, roles: [...user.roles] };
}
