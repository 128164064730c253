/** The refresh-token rotation rules of `Store.rotateRefreshToken` on SQLite. */
import type Database from 'better-sqlite3';
import { GatehouseError } from '../../core/errors.js';
import type { RotateRefreshTokenInput, RotationOutcome } from '../session-store.js';
import type { SQLiteAudit } from './audit.js';
import type { SQLiteDatabase } from './database.js';
import type { SQLiteRevocations } from './revocations.js';
import { type SessionRow, type TokenRow, type UserRow, toSession, toUser } from './rows.js';

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
      tokenByHash: db.prepare<[string], TokenRow>('SELECT hash, session_id, generation, rotated_at FROM refresh_tokens WHERE hash = ?'),
      liveToken: db.prepare<[string], TokenRow>(
        'SELECT hash, session_id, generation, rotated_at FROM refresh_tokens WHERE session_id = ? AND rotated_at IS NULL',
      ),
      sessionById: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?'),
      userById: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
      markRotated: db.prepare<[number, string]>('UPDATE refresh_tokens SET rotated_at = ? WHERE hash = ? AND rotated_at IS NULL'),
      insertToken: db.prepare<[string, string, number, number]>(
        'INSERT INTO refresh_tokens (hash, session_id, generation, created_at) VALUES (?, ?, ?, ?)',
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

  #rotateNow({ presentedHash, successorHash, now, graceMs, idleTimeoutMs, actor }: RotateRefreshTokenInput): RotationOutcome {
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

    if (token.rotated_at === null) {
      if (q.tokenByHash.get(successorHash) !== undefined) return { status: 'invalid', reason: 'unknown' };
      q.markRotated.run(now, presentedHash);
      q.insertToken.run(successorHash, session.id, token.generation + 1, now);
      const updated = q.touchSession.get(now, now + idleTimeoutMs, session.id);
      if (updated === undefined) throw new Error('Session vanished during rotation.');
      this.#audit.insert({ at: now, type: 'refresh', userId: user.id, sessionId: session.id, ...actor, detail: { grace: false } });
      return { status: 'rotated', session: toSession(updated), user };
    }

    if (now - token.rotated_at <= graceMs) {
      const live = q.liveToken.get(session.id);
      if (live === undefined) throw new Error('Session has no live refresh token.');
      return { status: 'grace', session, user, generationsBehind: live.generation - token.generation, liveHash: live.hash };
    }

    const revoked = q.revokeSession.get(now, session.id);
    if (revoked === undefined) throw new Error('Session vanished during rotation.');
    this.#revocations.append('session', session.id, session.userId, now);
    this.#audit.insert({ at: now, type: 'refresh_token_reused', userId: session.userId, sessionId: session.id, ...actor });
    return { status: 'reused', session: toSession(revoked) };
  }
}
