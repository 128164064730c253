import type { AuditDetail, AuditEvent, AuditNote } from '../store/store.js';
import type { AuthServiceDeps, ClientContext } from './auth-types.js';

// How the auth service records what it does: with the store's change (a note), or on its own (an event).

/** The longest user agent kept, in the audit log and on a session. */
export const MAX_USER_AGENT_LENGTH = 256;

/** Who is asking, as the audit log records it. */
export function auditActor(client: ClientContext | null): { ip: string | null; userAgent: string | null } {
  return { ip: client?.ip ?? null, userAgent: client?.userAgent?.slice(0, MAX_USER_AGENT_LENGTH) ?? null };
}

/**
 * The audit record of a change, handed to the store operation that makes
 * the change: both commit in one transaction, or neither does.
 */
export function auditNote(type: AuditEvent['type'], client: ClientContext | null, detail?: AuditDetail): AuditNote {
  return { type, ...auditActor(client), ...(detail === undefined ? {} : { detail }) };
}

/** Logs an event the store wrote with its change (the log line names no detail). */
export function logRecorded(deps: Pick<AuthServiceDeps, 'logAudit'>, note: AuditNote, at: number, userId: string, sessionId: string | null = null): void {
  deps.logAudit({ at, type: note.type, userId, sessionId, ip: note.ip, userAgent: note.userAgent });
}

/** Records an event that goes with no change of the store's, stamped now. */
export async function auditNow(
  deps: Pick<AuthServiceDeps, 'audit' | 'clock'>,
  type: AuditEvent['type'],
  client: ClientContext | null,
  fields: Pick<AuditEvent, 'userId' | 'sessionId' | 'detail'>,
): Promise<void> {
  await deps.audit({
    at: deps.clock.now(),
    type,
    ip: client?.ip ?? null,
    userAgent: client?.userAgent?.slice(0, MAX_USER_AGENT_LENGTH) ?? null,
    ...fields,
  });
}
