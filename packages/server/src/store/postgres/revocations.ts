/**
 * Revocation events on PostgreSQL: appended by every operation that ends a
 * session or makes a user's tokens stale, inside that operation's transaction,
 * and read in order by every instance's revocation list.
 */
import type { RevocationEvent, RevocationStore } from '../revocation-store.js';
import type { RevokeReason } from '../session-store.js';
import type { PostgresConnection } from './connection.js';
import { type RevocationRow, type Run, toRevocation } from './rows.js';

export class PostgresRevocations implements RevocationStore {
  readonly #db: PostgresConnection;

  constructor(db: PostgresConnection) {
    this.#db = db;
  }

  async listRevocations(afterSeq: number, notBefore: number): Promise<RevocationEvent[]> {
    return this.#db.one(async (run) => {
      const { rows } = await run<RevocationRow>(
        'SELECT seq, kind, session_id, user_id, at, user_version FROM revocation_events WHERE seq > $1 AND at >= $2 ORDER BY seq',
        [afterSeq, notBefore],
      );
      return rows.map(toRevocation);
    });
  }
}

/**
 * Appends revocation events. The table lock (which plain reads ignore) makes
 * writers take turns until they commit, so events become visible in `seq`
 * order: a reader that has seen seq N can never later find a smaller seq
 * committed behind it, which listRevocations' cursor relies on. Without it,
 * identity values are handed out at insert time but committed in any order.
 */
export async function appendRevocations(run: Run, kind: 'session', sessionIds: readonly string[], userId: string, at: number): Promise<void> {
  await run('LOCK TABLE revocation_events IN EXCLUSIVE MODE');
  await run(
    `INSERT INTO revocation_events (kind, session_id, user_id, at)
     SELECT $1, sid, $3, $4 FROM unnest($2::text[]) WITH ORDINALITY AS x (sid, n) ORDER BY n`,
    [kind, sessionIds, userId, at],
  );
}

/** Appends a user event (the user is now at `version`), under the same lock as {@link appendRevocations}. */
export async function appendUserRevocation(run: Run, userId: string, version: number, at: number): Promise<void> {
  await run('LOCK TABLE revocation_events IN EXCLUSIVE MODE');
  await run(`INSERT INTO revocation_events (kind, session_id, user_id, at, user_version) VALUES ('user', NULL, $1, $2, $3)`, [userId, at, version]);
}

/** Revokes every not-yet-revoked session of a user, one event each. Call inside a transaction. */
export async function revokeAllOfUser(run: Run, userId: string, reason: RevokeReason, at: number): Promise<string[]> {
  const { rows } = await run<{ id: string }>(
    'UPDATE sessions SET revoked_at = $1, revoke_reason = $2 WHERE user_id = $3 AND revoked_at IS NULL RETURNING id',
    [at, reason, userId],
  );
  const ids = rows.map((r) => r.id);
  if (ids.length > 0) await appendRevocations(run, 'session', ids, userId, at);
  return ids;
}
