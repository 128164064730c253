/** The refresh-token rotation rules of `Store.rotateRefreshToken` on PostgreSQL. */
import type { RotateRefreshTokenInput, RotationOutcome } from '../session-store.js';
import { insertAudit } from './audit.js';
import { Rollback } from './connection.js';
import { appendRevocations } from './revocations.js';
import { type Run, type SessionRow, type TokenRow, type UserRow, SESSION_COLUMNS, only, qualifiedSessionColumns, toSession, toUser } from './rows.js';

/** Rotates inside the caller's transaction. */
export async function rotate(run: Run, { presentedHash, successorHash, now, graceMs, idleTimeoutMs, actor }: RotateRefreshTokenInput): Promise<RotationOutcome> {
  // Lock the session first: every rotation of one family queues here, and
  // whatever is read after the lock is what the previous holder committed.
  const locked = await run<SessionRow>(
    `SELECT ${qualifiedSessionColumns('s')} FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id WHERE t.hash = $1 FOR UPDATE OF s`,
    [presentedHash],
  );
  const sessionRow = locked.rows[0];
  if (sessionRow === undefined) return { status: 'invalid', reason: 'unknown' };
  // The token again (its state as the previous lock holder left it) and the user, in one round trip.
  const current = await run<UserRow & Pick<TokenRow, 'generation' | 'rotated_at'>>(
    'SELECT t.generation, t.rotated_at, u.* FROM refresh_tokens t, users u WHERE t.hash = $1 AND u.id = $2',
    [presentedHash, sessionRow.user_id],
  );
  const row = current.rows[0];
  if (row === undefined) return { status: 'invalid', reason: 'unknown' };
  const token = { generation: row.generation, rotated_at: row.rotated_at };
  const session = toSession(sessionRow);
  if (session.revokedAt !== null) return { status: 'invalid', reason: 'revoked' };
  const user = toUser(row);
  if (user.disabled) return { status: 'invalid', reason: 'user_disabled' };
  if (now >= session.idleExpiresAt || now >= session.absoluteExpiresAt) return { status: 'invalid', reason: 'expired' };

  if (token.rotated_at === null) {
    await run('UPDATE refresh_tokens SET rotated_at = $1 WHERE hash = $2 AND rotated_at IS NULL', [now, presentedHash]);
    const inserted = await run(
      'INSERT INTO refresh_tokens (hash, session_id, generation, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (hash) DO NOTHING',
      [successorHash, session.id, token.generation + 1, now],
    );
    // A successor that already exists belongs to someone else: undo the mark and change nothing.
    if (inserted.rowCount === 0) throw new Rollback<RotationOutcome>({ status: 'invalid', reason: 'unknown' });
    const updated = await run<SessionRow>(
      `UPDATE sessions SET last_seen_at = $1, idle_expires_at = LEAST($2::bigint, absolute_expires_at) WHERE id = $3 RETURNING ${SESSION_COLUMNS}`,
      [now, now + idleTimeoutMs, session.id],
    );
    await insertAudit(run, { at: now, type: 'refresh', userId: user.id, sessionId: session.id, ...actor, detail: { grace: false } });
    return { status: 'rotated', session: toSession(only(updated.rows)), user };
  }

  if (now - token.rotated_at <= graceMs) {
    const live = (await run<TokenRow>('SELECT hash, session_id, generation, rotated_at FROM refresh_tokens WHERE session_id = $1 AND rotated_at IS NULL', [session.id])).rows[0];
    if (live === undefined) throw new Error('Session has no live refresh token.');
    return { status: 'grace', session, user, generationsBehind: live.generation - token.generation, liveHash: live.hash };
  }

  const revoked = await run<SessionRow>(
    `UPDATE sessions SET revoked_at = $1, revoke_reason = 'refresh_token_reused' WHERE id = $2 RETURNING ${SESSION_COLUMNS}`,
    [now, session.id],
  );
  await appendRevocations(run, 'session', [session.id], session.userId, now);
  await insertAudit(run, { at: now, type: 'refresh_token_reused', userId: session.userId, sessionId: session.id, ...actor });
  return { status: 'reused', session: toSession(only(revoked.rows)) };
}
