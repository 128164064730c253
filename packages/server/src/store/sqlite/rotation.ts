/**
 * The refresh-token rotation rules of `Store.rotateRefreshToken` on SQLite,
 * in the order `SessionStore.rotateRefreshToken` lists them. The common case —
 * a live token — costs five statements: the token is marked first,
 * compare-and-swap style (only if still live), and any refusal found
 * afterwards undoes the mark by rolling back.
 *
 * Group commit: rotations that arrive together are applied one after another
 * inside one IMMEDIATE transaction, each in a savepoint of its own, and
 * answered once that transaction has committed. The commit (and its fsync,
 * with synchronous=FULL) is what a rotation mostly costs, so many clients
 * refreshing at once share it; each is still applied exactly as if alone.
 */
import type Database from 'better-sqlite3';
import { GatehouseError } from '../../core/errors.js';
import { GroupCommit } from './group-commit.js';
import type { AuditDetail } from '../audit-store.js';
import type { RotateRefreshTokenInput, RotationOutcome, SessionRecord, SuccessorKind } from '../session-store.js';
import type { UserRecord } from '../user-store.js';
import { TOKEN_COLUMNS } from '../rows.js';
import type { SQLiteAudit } from './audit.js';
import type { SQLiteDatabase } from './database.js';
import type { SQLiteRevocations } from './revocations.js';
import { type SessionRow, type TokenRow, type UserRow, sqliteCode, toSession, toUser } from './rows.js';

/** One more than the longest grace path the service accepts, so an over-long one is seen as such. */
const MAX_PATH = 33;
const DERIVED: AuditDetail = Object.freeze({ grace: false });
const REPLACED: AuditDetail = Object.freeze({ grace: false, replacement: true });

/** A session row with its user's columns, prefixed `u_` where the names clash. */
type SessionAndUserRow = SessionRow & Omit<UserRow, 'id' | 'created_at' | 'updated_at'> & { u_created_at: number; u_updated_at: number };

/** Thrown inside a rotation's savepoint to roll it back and answer `outcome` instead. */
class Undo {
  constructor(readonly outcome: RotationOutcome) {}
}

/** Rotation's statements and its transaction, prepared once. */
export class SQLiteRotation {
  readonly #revocations: SQLiteRevocations;
  readonly #audit: SQLiteAudit;
  readonly #q;
  /** One rotation; called inside {@link #group}, so it runs in a savepoint. */
  readonly #rotateOne: Database.Transaction<(input: RotateRefreshTokenInput) => RotationOutcome>;
  readonly #group: GroupCommit<RotateRefreshTokenInput, RotationOutcome>;

  constructor(db: SQLiteDatabase, revocations: SQLiteRevocations, audit: SQLiteAudit) {
    this.#revocations = revocations;
    this.#audit = audit;
    this.#q = {
      markLive: db.prepare<[number, string], TokenRow>(
        `UPDATE refresh_tokens SET rotated_at = ? WHERE hash = ? AND rotated_at IS NULL RETURNING ${TOKEN_COLUMNS}`,
      ),
      tokenByHash: db.prepare<[string], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM refresh_tokens WHERE hash = ?`),
      // The chain after a generation: one token per generation is not superseded, so these are the lineage.
      chainAfter: db.prepare<[string, number, number], TokenRow>(
        `SELECT ${TOKEN_COLUMNS} FROM refresh_tokens
         WHERE session_id = ? AND generation > ? AND superseded_at IS NULL ORDER BY generation LIMIT ?`,
      ),
      sessionAndUser: db.prepare<[string], SessionAndUserRow>(
        `SELECT s.*, u.username, u.password_hash, u.roles, u.disabled, u.version,
                u.created_at AS u_created_at, u.updated_at AS u_updated_at
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`,
      ),
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
    this.#rotateOne = db.raw.transaction((input: RotateRefreshTokenInput) => this.#rotateNow(input));
    this.#group = new GroupCommit(db, (input) => this.#settle(input));
  }

  /** Rotates with the next group commit; answers once it is durable. */
  rotate(input: RotateRefreshTokenInput): Promise<RotationOutcome> {
    return this.#group.submit(input);
  }

  /** One rotation of a batch, in its own savepoint: a refusal undoes it alone and answers its outcome. */
  #settle(input: RotateRefreshTokenInput): RotationOutcome {
    try {
      return this.#rotateOne(input);
    } catch (error) {
      if (error instanceof Undo) return error.outcome;
      throw error;
    }
  }

  #rotateNow(input: RotateRefreshTokenInput): RotationOutcome {
    const { presentedHash, now, graceMs } = input;
    const q = this.#q;
    const marked = q.markLive.get(now, presentedHash);
    const token = marked ?? q.tokenByHash.get(presentedHash);
    if (token === undefined) return { status: 'invalid', reason: 'unknown' };
    const row = q.sessionAndUser.get(token.session_id);
    if (row === undefined) throw new GatehouseError('SESSION_NOT_FOUND');
    const session = toSession(row);
    const user = toUser({ ...row, id: row.user_id, created_at: row.u_created_at, updated_at: row.u_updated_at });
    const refusal: RotationOutcome | undefined =
      session.revokedAt !== null ? { status: 'invalid', reason: 'revoked' }
      : user.disabled ? { status: 'invalid', reason: 'user_disabled' }
      : now >= session.idleExpiresAt || now >= session.absoluteExpiresAt ? { status: 'invalid', reason: 'expired' }
      : undefined;
    if (refusal !== undefined) {
      if (marked !== undefined) throw new Undo(refusal);
      return refusal;
    }

    // 1. Never presented: the normal rotation (the token is marked already).
    if (marked !== undefined) return this.#advance(input, token, session, user, 'derived');
    // 2. A successor that a retry replaced: whoever holds it is not the client that retried.
    if (token.superseded_at !== null) return this.#reused(input, session);
    const chain = q.chainAfter.all(session.id, token.generation, MAX_PATH);
    // 3. Inside the grace window: the live token, for parallel tabs.
    if (token.rotated_at !== null && now - token.rotated_at <= graceMs) {
      const live = chain.at(-1);
      if (live === undefined || live.rotated_at !== null) throw new Error('Session has no live refresh token.');
      return { status: 'grace', session, user, path: chain.map(kindOf), liveHash: live.hash };
    }
    // 4. Its successor was never presented (a lost response): replace that successor, once.
    const successor = chain[0];
    if (successor !== undefined && successor.rotated_at === null && successor.replacement === 0) {
      q.supersede.run(now, now, successor.hash);
      q.markRotated.run(now, presentedHash);
      return this.#advance(input, token, session, user, 'replacement');
    }
    // 5. The chain moved on by use, or the one replacement is spent.
    return this.#reused(input, session);
  }

  /**
   * Makes the (already marked) presented token's successor of `kind` the live
   * token, moves the idle expiry and records the event. A successor hash that
   * exists already belongs to someone else: everything is undone.
   */
  #advance(
    { successorHash, replacementHash, now, idleTimeoutMs, actor }: RotateRefreshTokenInput,
    token: TokenRow,
    session: SessionRecord,
    user: UserRecord,
    kind: SuccessorKind,
  ): RotationOutcome {
    const q = this.#q;
    try {
      q.insertToken.run(kind === 'derived' ? successorHash : replacementHash, session.id, token.generation + 1, now, kind === 'replacement' ? 1 : 0);
    } catch (error) {
      if (sqliteCode(error) === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new Undo({ status: 'invalid', reason: 'unknown' });
      throw error;
    }
    const updated = q.touchSession.get(now, now + idleTimeoutMs, session.id);
    if (updated === undefined) throw new Error('Session vanished during rotation.');
    const detail = kind === 'replacement' ? REPLACED : DERIVED;
    this.#audit.insert({ at: now, type: 'refresh', userId: user.id, sessionId: session.id, ip: actor.ip, userAgent: actor.userAgent, detail });
    return { status: 'rotated', session: toSession(updated), user, successor: kind };
  }

  #reused({ now, actor }: RotateRefreshTokenInput, session: SessionRecord): RotationOutcome {
    const revoked = this.#q.revokeSession.get(now, session.id);
    if (revoked === undefined) throw new Error('Session vanished during rotation.');
    this.#revocations.append('session', session.id, session.userId, now);
    this.#audit.insert({ at: now, type: 'refresh_token_reused', userId: session.userId, sessionId: session.id, ip: actor.ip, userAgent: actor.userAgent });
    return { status: 'reused', session: toSession(revoked) };
  }
}

function kindOf(row: TokenRow): SuccessorKind {
  return row.replacement === 1 ? 'replacement' : 'derived';
}
