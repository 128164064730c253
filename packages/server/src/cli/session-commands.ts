import { CONFIG_OPTIONS, type Command } from './command.js';
import { exactlyOne, print, withGatehouse } from './admin-support.js';
import { CLIUsageError } from './io.js';

/** `gatehouse session list <username>`: the user's active sessions. */
export const sessionList: Command = {
  name: 'session list',
  usage: ['session list <username>'],
  summary: "List a user's active sessions",
  options: ['json', ...CONFIG_OPTIONS],
  example: 'gatehouse session list alice',
  async run(operands, values, io) {
    const username = exactlyOne(operands, 'username');
    const sessions = await withGatehouse(values, io, async (g) => g.auth.listSessions((await g.auth.findUser(username)).id));
    const rows = sessions.map((s) => ({
      id: s.id,
      createdAt: new Date(s.createdAt).toISOString(),
      lastSeenAt: new Date(s.lastSeenAt).toISOString(),
      ip: s.ip,
      userAgent: s.userAgent,
    }));
    const text =
      rows.length === 0
        ? `No active sessions for ${username}.`
        : rows.map((r) => `${r.id}  created ${r.createdAt}  last seen ${r.lastSeenAt}  ${r.ip ?? '-'}  ${r.userAgent ?? '-'}`).join('\n');
    print(io, values, { sessions: rows }, text);
    return 0;
  },
};

/** `gatehouse session revoke <session-id> | --user <username>`: ends one session, or all of a user's. */
export const sessionRevoke: Command = {
  name: 'session revoke',
  usage: ['session revoke <session-id>', 'session revoke --user <username>'],
  summary: 'End one session, or every session of a user',
  options: ['user', 'json', ...CONFIG_OPTIONS],
  idOperand: true,
  example: 'gatehouse session revoke -GqMbq0vQ0bqJ3m1c8yT0x',
  async run(operands, values, io) {
    if (values.user !== undefined) {
      if (operands.length > 0) throw new CLIUsageError('give either a session id or --user, not both');
      const username = values.user;
      const ids = await withGatehouse(values, io, (g) => g.auth.adminRevokeUserSessions(username));
      print(io, values, { revoked: ids }, `Ended ${ids.length} session(s) of ${username}.`);
      return 0;
    }
    const id = exactlyOne(operands, 'session id');
    await withGatehouse(values, io, (g) => g.auth.adminRevokeSession(id));
    print(io, values, { revoked: [id] }, `Ended session ${id}.`);
    return 0;
  },
};
