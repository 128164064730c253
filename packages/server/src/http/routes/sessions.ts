import { z } from 'zod';
import { GatehouseError } from '../../core/errors.js';
import { jsonResponse, noContent } from '../responses.js';
import { readBody, requireAuth, signedOut, type RouteHandler } from './context.js';

const revokeAllBody = z.strictObject({ password: z.string().min(1).max(1024) });
const SESSION_ID = /^[A-Za-z0-9_-]{16,64}$/;

/** `GET /auth/sessions`: the caller's active sessions, theirs marked `current`. */
export const listSessions: RouteHandler = async (deps, request, client) => {
  const current = await requireAuth(deps, request, client);
  const sessions = await deps.auth.listSessions(current.user.id);
  // Which native app holds each session (OAuth), so the user can tell them apart; no look-ups without OAuth.
  const clients = deps.config.oauth.enabled ? await Promise.all(sessions.map(async (s) => (await deps.store.findGrant(s.id))?.clientId ?? null)) : [];
  return jsonResponse(200, {
    sessions: sessions.map((s, i) => ({
      id: s.id,
      createdAt: new Date(s.createdAt).toISOString(),
      lastSeenAt: new Date(s.lastSeenAt).toISOString(),
      expiresAt: new Date(Math.min(s.idleExpiresAt, s.absoluteExpiresAt)).toISOString(),
      userAgent: s.userAgent,
      ip: s.ip,
      current: s.id === current.sessionId,
      client: clients[i] ?? null,
    })),
  });
};

/** `DELETE /auth/sessions/{id}`: ends one of the caller's own sessions. */
export const revokeSession: RouteHandler = async (deps, request, client, id) => {
  const current = await requireAuth(deps, request, client);
  if (!SESSION_ID.test(id)) throw new GatehouseError('SESSION_NOT_FOUND');
  await deps.auth.revokeOwnSession(current.user.id, id, client);
  return id === current.sessionId ? signedOut(deps) : noContent();
};

/** `POST /auth/sessions/revoke-all`: ends every session of the caller, after asking for the password again. */
export const revokeAllSessions: RouteHandler = async (deps, request, client) => {
  const current = await requireAuth(deps, request, client);
  const body = await readBody(deps, request, revokeAllBody);
  await deps.auth.revokeAllSessions(current.user.id, body.password, client);
  return signedOut(deps);
};
