/**
 * The refresh-token rotation rules of `Store.rotateRefreshToken` on SQLite,
 * in the order `SessionStore.rotateRefreshToken` lists them.
 */
import type Database from 'better-sqlite3';
import { GatehouseError } from '../../core/errors.js';
import type { AuditDetail } from '../audit-store.js';
import type { RotateRefreshTokenInput, RotationOutcome, SessionRecord, SuccessorKind } from '../session-store.js';
import type { UserRecord } from '../user-store.js';
import { TOKEN_COLUMNS } from '../rows.js';
import type { SQLiteAudit } from './audit.js';
import type { SQLiteDatabase } from './database.js';
import type { SQLiteRevocations } from './revocations.js';
import { type SessionRow, type TokenRow, type UserRow, toSession, toUser } from './rows.js';

/** One more than the longest grace path the service accepts, so an over-long one is seen as such. */
const MAX_PATH = 33;

/** Rotation's statements and its transaction, prepared once. */
export class SQLiteRotation {
  readonly #db: SQLiteDatabase;
  readonly #revocations: SQLiteRevocations;
  readonly #audit: SQLiteAudit;
  readonly #q;
  readonly #rotate: Database.Transaction<(input: RotateRefreshTokenInput) => RotationOutcome>;

  constructor(db: SQLiteDatabase, revocations: SQLiteRevocations, audit: SQLiteAudit) {
    this.#db = db;
    this.#revocations = revocations;
    this.#audit = audit;
    this.#q = {
      tokenByHash: db.prepare<[string], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM refresh_tokens WHERE hash = ?`),
      // The chain after a generation: one token per generation is not superseded, so these are the lineage.
      chainAfter: db.prepare<[string, number, number], TokenRow>(
        `SELECT ${TOKEN_COLUMNS} FROM refresh_tokens
         WHERE session_id = ? AND generation > ? AND superseded_at IS NULL ORDER BY generation LIMIT ?`,
      ),
      sessionById: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?'),
      userById: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
      markRotated: db.prepare<[number, string]>('UPDATE refresh_tokens SET rotated_at = ? WHERE hash = ?'),
      // rotated_at too: the one-live-token index counts tokens whose rotated_at is NULL.
      supersede: db.prepare<[number, number, string]>('UPDATE refresh_tokens SET rotated_at = ?, superseded_at = ? WHERE hash = ?'),
      insertToken: db.prepare<[string, string, number, number, number]>(
        'INSERT INTO refresh_tokens (hash, session_id, generation, created_at, replacement) VALUES (?, ?, ?, ?, ?)',
      ),
      touchSession: db.prepare<[number, number, string], SessionRow>(
        'UPDATE sessions SET last_seen_at = ?, idle_expires_at = MIN(?, absolute_expires_at) WHERE id = ? RETURNING *',
      ),
      revokeSession: db.prepare<[number, string], SessionRow>(
        `UPDATE sessions SET revoked_at = ?, revoke_reason = 'refresh_token_reused' WHERE id = ? AND revoked_at IS NULL RETURNING *`,
      ),
    };
    this.#rotate = db.raw.transaction((input: RotateRefreshTokenInput) => this.#rotateNow(input));
  }

  /** Rotates in one IMMEDIATE transaction: the outcome depends on what is read, so the write lock comes first. */
  rotate(input: RotateRefreshTokenInput): RotationOutcome {
    return this.#db.run(() => this.#rotate.immediate(input));
  }

  #rotateNow(input: RotateRefreshTokenInput): RotationOutcome {
    const { presentedHash, now, graceMs } = input;
    const q = this.#q;
    const token = q.tokenByHash.get(presentedHash);
    if (token === undefined) return { status: 'invalid', reason: 'unknown' };
    const sessionRow = q.sessionById.get(token.session_id);
    if (sessionRow === undefined) throw new GatehouseError('SESSION_NOT_FOUND');
    const session = toSession(sessionRow);
    if (session.revokedAt !== null) return { status: 'invalid', reason: 'revoked' };
    const userRow = q.userById.get(session.userId);
    if (userRow === undefined) throw new GatehouseError('USER_NOT_FOUND');
    const user = toUser(userRow);
    if (user.disabled) return { status: 'invalid', reason: 'user_disabled' };
    if (now >= session.idleExpiresAt || now >= session.absoluteExpiresAt) return { status: 'invalid', reason: 'expired' };

    // 1. Never presented: the normal rotation.
    if (token.rotated_at === null) return this.#advance(input, token, session, user, 'derived');
    // 2. A successor that a retry replaced: whoever holds it is not the client that retried.
    if (token.superseded_at !== null) return this.#reused(input, session);
    const chain = q.chainAfter.all(session.id, token.generation, MAX_PATH);
    // 3. Inside the grace window: the live token, for parallel tabs.
    if (now - token.rotated_at <= graceMs) {
      const live = chain.at(-1);
      if (live === undefined || live.rotated_at !== null) throw new Error('Session has no live refresh token.');
      return { status: 'grace', session, user, path: chain.map(kindOf), liveHash: live.hash };
    }
    // 4. Its successor was never presented (a lost response): replace that successor, once.
    const successor = chain[0];
    if (successor !== undefined && successor.rotated_at === null && successor.replacement === 0) {
      if (q.tokenByHash.get(input.replacementHash) !== undefined) return { status: 'invalid', reason: 'unknown' };
      q.supersede.run(now, now, successor.hash);
      return this.#advance(input, token, session, user, 'replacement');
    }
    // 5. The chain moved on by use, or the one replacement is spent.
    return this.#reused(input, session);
  }

  /** Makes `token`'s successor of `kind` the live token, moves the idle expiry and records the event. */
  #advance(
    { presentedHash, successorHash, replacementHash, now, idleTimeoutMs, actor }: RotateRefreshTokenInput,
    token: TokenRow,
    session: SessionRecord,
    user: UserRecord,
    kind: SuccessorKind,
  ): RotationOutcome {
    const q = this.#q;
    const next = kind === 'derived' ? successorHash : replacementHash;
    // A successor that already exists belongs to someone else: change nothing (checked before superseding for a replacement).
    if (kind === 'derived' && q.tokenByHash.get(next) !== undefined) return { status: 'invalid', reason: 'unknown' };
    q.markRotated.run(now, presentedHash);
    q.insertToken.run(next, session.id, token.generation + 1, now, kind === 'replacement' ? 1 : 0);
    const updated = q.touchSession.get(now, now + idleTimeoutMs, session.id);
    if (updated === undefined) throw new Error('Session vanished during rotation.');
    const detail: AuditDetail = kind === 'replacement' ? { grace: false, replacement: true } : { grace: false };
    this.#audit.insert({ at: now, type: 'refresh', userId: user.id, sessionId: session.id, ...actor, detail });
    return { status: 'rotated', session: toSession(updated), user, successor: kind };
  }

  #reused({ now, actor }: RotateRefreshTokenInput, session: SessionRecord): RotationOutcome {
    const revoked = this.#q.revokeSession.get(now, session.id);
    if (revoked === undefined) throw new Error('Session vanished during rotation.');
    this.#revocations.append('session', session.id, session.userId, now);
    this.#audit.insert({ at: now, type: 'refresh_token_reused', userId: session.userId, sessionId: session.id, ...actor });
    return { status: 'reused', session: toSession(revoked) };
  }
}

function kindOf(row: TokenRow): SuccessorKind {
  return row.replacement === 1 ? 'replacement' : 'derived';
}
