/**
 * The refresh-token rotation rules of `Store.rotateRefreshToken` on
 * PostgreSQL. The common case — a live token — is one compare-and-swap
 * statement (one round trip, no explicit transaction); everything else
 * (grace, replacement, reuse, refusals) takes the locking transaction below,
 * which applies the rules in the order `SessionStore.rotateRefreshToken`
 * lists them.
 */
import type { AuditDetail } from '../audit-store.js';
import type { RotateRefreshTokenInput, RotationOutcome, SessionRecord, SuccessorKind } from '../session-store.js';
import type { UserRecord } from '../user-store.js';
import { insertAudit } from './audit.js';
import type { PostgresConnection } from './connection.js';
import { appendRevocations } from './revocations.js';
import {
  type Run,
  type SessionRow,
  type TokenRow,
  type UserRow,
  SESSION_COLUMNS,
  constraintOf,
  only,
  qualifiedSessionColumns,
  sqlState,
  toSession,
  toUser,
} from './rows.js';

/** One more than the longest grace path the service accepts, so an over-long one is seen as such. */
const MAX_PATH = 33;
const TOKEN_COLUMNS = 'hash, session_id, generation, rotated_at, superseded_at, replacement::int AS replacement';
const USER_COLUMNS = ['id', 'username', 'password_hash', 'roles', 'disabled', 'created_at', 'updated_at', 'version'] as const;

/**
 * Rotates a live token in one statement, or answers null (having changed
 * nothing) when the token is not live or its session or user does not allow
 * it. The session row is locked first, as in the transaction, so rotations
 * of one family and revocations of its session take turns; the token is then
 * marked only if it is still live after that wait (PostgreSQL re-checks the
 * condition on the newest row version), which makes it a compare-and-swap:
 * of racing presenters exactly one marks it, the others get null.
 */
const ROTATE_LIVE = `
  WITH presented AS (
    SELECT session_id FROM refresh_tokens WHERE hash = $1 AND rotated_at IS NULL
  ), locked AS (
    SELECT s.id FROM sessions s
    JOIN presented p ON p.session_id = s.id
    JOIN users u ON u.id = s.user_id AND NOT u.disabled
    WHERE s.revoked_at IS NULL AND s.idle_expires_at > $3 AND s.absolute_expires_at > $3
    FOR UPDATE OF s
  ), marked AS (
    UPDATE refresh_tokens t SET rotated_at = $3 FROM locked
    WHERE t.hash = $1 AND t.rotated_at IS NULL AND t.session_id = locked.id
    RETURNING t.session_id, t.generation
  ), successor AS (
    INSERT INTO refresh_tokens (hash, session_id, generation, created_at)
    SELECT $2, session_id, generation + 1, $3 FROM marked
  ), touched AS (
    UPDATE sessions s SET last_seen_at = $3, idle_expires_at = LEAST($4::bigint, s.absolute_expires_at)
    FROM marked WHERE s.id = marked.session_id
    RETURNING ${qualifiedSessionColumns('s')}
  ), audited AS (
    INSERT INTO audit_events (at, type, user_id, session_id, ip, user_agent, detail)
    SELECT $3, 'refresh', user_id, id, $5, $6, '{"grace":false}' FROM touched
  )
  SELECT touched.*, ${USER_COLUMNS.map((c) => `u.${c} AS u_${c}`).join(', ')}
  FROM touched JOIN users u ON u.id = touched.user_id`;

type RotatedRow = SessionRow & { [K in (typeof USER_COLUMNS)[number] as `u_${K}`]: UserRow[K] };

/** Rotates `input.presentedHash`; see `SessionStore.rotateRefreshToken`. */
export async function rotate(db: PostgresConnection, input: RotateRefreshTokenInput): Promise<RotationOutcome> {
  const rotated = await db.one((run) => rotateLive(run, input));
  return rotated ?? db.transaction((run) => rotateByRules(run, input));
}

async function rotateLive(run: Run, { presentedHash, successorHash, now, idleTimeoutMs, actor }: RotateRefreshTokenInput): Promise<RotationOutcome | null> {
  let rows: RotatedRow[];
  try {
    ({ rows } = await run<RotatedRow>(ROTATE_LIVE, [presentedHash, successorHash, now, now + idleTimeoutMs, actor.ip, actor.userAgent], 'gatehouse_rotate_live'));
  } catch (error) {
    // A successor that already exists belongs to someone else; the failed statement changed nothing.
    if (sqlState(error) === '23505' && constraintOf(error) === 'refresh_tokens_pkey') return { status: 'invalid', reason: 'unknown' };
    throw error;
  }
  const row = rows[0];
  if (row === undefined) return null;
  const user = toUser({
    id: row.u_id, username: row.u_username, password_hash: row.u_password_hash, roles: row.u_roles, disabled: row.u_disabled,
    created_at: row.u_created_at, updated_at: row.u_updated_at, version: row.u_version,
  });
  return { status: 'rotated', session: toSession(row), user, successor: 'derived' };
}

/** Every rule, inside the caller's transaction, with the session locked first. */
async function rotateByRules(run: Run, input: RotateRefreshTokenInput): Promise<RotationOutcome> {
  const { presentedHash, now, graceMs } = input;
  // Every rotation of one family queues here, and whatever is read after the lock is what the previous holder committed.
  const locked = await run<SessionRow>(
    `SELECT ${qualifiedSessionColumns('s')} FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id WHERE t.hash = $1 FOR UPDATE OF s`,
    [presentedHash],
  );
  const sessionRow = locked.rows[0];
  if (sessionRow === undefined) return { status: 'invalid', reason: 'unknown' };
  // The token again (its state as the previous lock holder left it) and the user, in one round trip.
  const current = await run<UserRow & { t_generation: number; t_rotated_at: number | null; t_superseded_at: number | null }>(
    `SELECT t.generation AS t_generation, t.rotated_at AS t_rotated_at, t.superseded_at AS t_superseded_at, u.*
     FROM refresh_tokens t, users u WHERE t.hash = $1 AND u.id = $2`,
    [presentedHash, sessionRow.user_id],
  );
  const row = current.rows[0];
  if (row === undefined) return { status: 'invalid', reason: 'unknown' };
  const session = toSession(sessionRow);
  if (session.revokedAt !== null) return { status: 'invalid', reason: 'revoked' };
  const user = toUser(row);
  if (user.disabled) return { status: 'invalid', reason: 'user_disabled' };
  if (now >= session.idleExpiresAt || now >= session.absoluteExpiresAt) return { status: 'invalid', reason: 'expired' };
  const generation = row.t_generation;

  // 1. Never presented (the statement above lost a race with a revocation or expiry check, or was not tried).
  if (row.t_rotated_at === null) return advance(run, input, generation, session, user, 'derived');
  // 2. A successor that a retry replaced: whoever holds it is not the client that retried.
  if (row.t_superseded_at !== null) return reused(run, input, session);
  const chain = (
    await run<TokenRow>(
      `SELECT ${TOKEN_COLUMNS} FROM refresh_tokens WHERE session_id = $1 AND generation > $2 AND superseded_at IS NULL ORDER BY generation LIMIT $3`,
      [session.id, generation, MAX_PATH],
    )
  ).rows;
  // 3. Inside the grace window: the live token, for parallel tabs.
  if (now - row.t_rotated_at <= graceMs) {
    const live = chain.at(-1);
    if (live === undefined || live.rotated_at !== null) throw new Error('Session has no live refresh token.');
    return { status: 'grace', session, user, path: chain.map(kindOf), liveHash: live.hash };
  }
  // 4. Its successor was never presented (a lost response): replace that successor, once.
  const successor = chain[0];
  if (successor !== undefined && successor.rotated_at === null && successor.replacement === 0) {
    const taken = await run('SELECT 1 FROM refresh_tokens WHERE hash = $1', [input.replacementHash]);
    if ((taken.rowCount ?? 0) > 0) return { status: 'invalid', reason: 'unknown' };
    // rotated_at too: the one-live-token index counts tokens whose rotated_at is NULL.
    await run('UPDATE refresh_tokens SET rotated_at = $1, superseded_at = $1 WHERE hash = $2', [now, successor.hash]);
    return advance(run, input, generation, session, user, 'replacement');
  }
  // 5. The chain moved on by use, or the one replacement is spent.
  return reused(run, input, session);
}

/** Makes the presented token's successor of `kind` the live token, moves the idle expiry and records the event. */
async function advance(
  run: Run,
  { presentedHash, successorHash, replacementHash, now, idleTimeoutMs, actor }: RotateRefreshTokenInput,
  generation: number,
  session: SessionRecord,
  user: UserRecord,
  kind: SuccessorKind,
): Promise<RotationOutcome> {
  const next = kind === 'derived' ? successorHash : replacementHash;
  // Checked before marking anything, so that refusing needs no rollback (a replacement's hash was checked already).
  if (kind === 'derived' && ((await run('SELECT 1 FROM refresh_tokens WHERE hash = $1', [next])).rowCount ?? 0) > 0) {
    return { status: 'invalid', reason: 'unknown' };
  }
  await run('UPDATE refresh_tokens SET rotated_at = $1 WHERE hash = $2', [now, presentedHash]);
  await run('INSERT INTO refresh_tokens (hash, session_id, generation, created_at, replacement) VALUES ($1, $2, $3, $4, $5)', [
    next, session.id, generation + 1, now, kind === 'replacement',
  ]);
  const updated = await run<SessionRow>(
    `UPDATE sessions SET last_seen_at = $1, idle_expires_at = LEAST($2::bigint, absolute_expires_at) WHERE id = $3 RETURNING ${SESSION_COLUMNS}`,
    [now, now + idleTimeoutMs, session.id],
  );
  const detail: AuditDetail = kind === 'replacement' ? { grace: false, replacement: true } : { grace: false };
  await insertAudit(run, { at: now, type: 'refresh', userId: user.id, sessionId: session.id, ...actor, detail });
  return { status: 'rotated', session: toSession(only(updated.rows)), user, successor: kind };
}

async function reused(run: Run, { now, actor }: RotateRefreshTokenInput, session: SessionRecord): Promise<RotationOutcome> {
  const revoked = await run<SessionRow>(
    `UPDATE sessions SET revoked_at = $1, revoke_reason = 'refresh_token_reused' WHERE id = $2 RETURNING ${SESSION_COLUMNS}`,
    [now, session.id],
  );
  await appendRevocations(run, 'session', [session.id], session.userId, now);
  await insertAudit(run, { at: now, type: 'refresh_token_reused', userId: session.userId, sessionId: session.id, ...actor });
  return { status: 'reused', session: toSession(only(revoked.rows)) };
}

function kindOf(row: TokenRow): SuccessorKind {
  return row.replacement === 1 ? 'replacement' : 'derived';
}
