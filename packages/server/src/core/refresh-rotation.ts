/**
 * The service's half of refresh-token rotation: derive the two possible
 * successors, let the store judge the presented token in one transaction
 * (`SessionStore.rotateRefreshToken` lists the rules), and turn its outcome
 * into the next token or an error. The store never sees a token, only hashes;
 * only the server can derive successors, so a grace answer is checked against
 * the live token's hash before it is handed out.
 */
import { timingSafeEqual } from 'node:crypto';
import type { GatehouseConfig } from '../config/resolve.js';
import type { AuditActor, AuditEvent, SessionRecord, Store, UserRecord } from '../store/store.js';
import type { Clock } from './clock.js';
import { GatehouseError } from './errors.js';
import type { KeyRing } from './keys.js';
import { MAX_SUCCESSOR_DEPTH, deriveAlong, deriveReplacement, deriveSuccessor, hashRefreshToken, isWellFormedRefreshToken } from './refresh-token.js';
import type { RevocationList } from './revocation-list.js';

/** What {@link rotateRefreshToken} needs. */
export interface RefreshRotationDeps {
  readonly config: GatehouseConfig;
  readonly store: Store;
  readonly clock: Clock;
  readonly keys: KeyRing;
  readonly revocations: RevocationList;
  /** Records an event that goes with no change of the store's (logs it, then appends it). */
  readonly audit: (event: AuditEvent) => Promise<void>;
  /** Logs an event the store has already written with the change it records. */
  readonly logAudit: (event: AuditEvent) => void;
}

/** A successful rotation: who, which session, and the refresh token the client holds from now on. */
export interface RotatedRefreshToken {
  readonly user: UserRecord;
  readonly session: SessionRecord;
  readonly refreshToken: string;
}

/**
 * Rotates `presented`. Throws `REFRESH_TOKEN_INVALID` (unknown, expired,
 * malformed), `REFRESH_TOKEN_REVOKED` (the session ended or the user is
 * disabled) or `REFRESH_TOKEN_REUSED` (theft: the session has been revoked
 * and every instance is told).
 */
export async function rotateRefreshToken(deps: RefreshRotationDeps, presented: string, actor: AuditActor): Promise<RotatedRefreshToken> {
  if (!isWellFormedRefreshToken(presented)) throw new GatehouseError('REFRESH_TOKEN_INVALID');
  const { store, clock, keys, config } = deps;
  const now = clock.now();
  const successor = deriveSuccessor(keys.refreshDerivation, presented);
  const replacement = deriveReplacement(keys.refreshDerivation, presented);
  const outcome = await store.rotateRefreshToken({
    presentedHash: hashRefreshToken(presented),
    successorHash: hashRefreshToken(successor),
    replacementHash: hashRefreshToken(replacement),
    now,
    graceMs: config.session.refreshGraceSeconds * 1000,
    idleTimeoutMs: config.session.idleTimeoutSeconds * 1000,
    actor,
  });

  switch (outcome.status) {
    case 'invalid':
      // Saying "revoked" rather than "invalid" lets the client tell the user their session was
      // ended (elsewhere, by an admin, after theft) rather than that it timed out. It tells the
      // holder of the token nothing they could use: the session is over either way.
      throw new GatehouseError(outcome.reason === 'revoked' || outcome.reason === 'user_disabled' ? 'REFRESH_TOKEN_REVOKED' : 'REFRESH_TOKEN_INVALID');
    case 'reused':
      deps.revocations.revokeSession(outcome.session.id, now);
      deps.logAudit({ at: now, type: 'refresh_token_reused', userId: outcome.session.userId, sessionId: outcome.session.id, ...actor });
      throw new GatehouseError('REFRESH_TOKEN_REUSED');
    case 'rotated': {
      const { user, session } = outcome;
      deps.logAudit({ at: now, type: 'refresh', userId: user.id, sessionId: session.id, ...actor });
      return { user, session, refreshToken: outcome.successor === 'derived' ? successor : replacement };
    }
    case 'grace': {
      const { user, session, path } = outcome;
      if (path.length < 1 || path.length > MAX_SUCCESSOR_DEPTH) throw new GatehouseError('REFRESH_TOKEN_INVALID');
      const live = deriveAlong(keys.refreshDerivation, presented, path);
      // If the chain was not derived with our key (the secret changed), the
      // live token is not ours to hand out: fail closed.
      const derived = Buffer.from(hashRefreshToken(live));
      const stored = Buffer.from(outcome.liveHash);
      if (derived.length !== stored.length || !timingSafeEqual(derived, stored)) throw new GatehouseError('REFRESH_TOKEN_INVALID');
      // Nothing changed in the store, so nothing has recorded the answer yet.
      await deps.audit({ at: now, type: 'refresh', userId: user.id, sessionId: session.id, ...actor, detail: { grace: true } });
      return { user, session, refreshToken: live };
    }
  }
}
