import { createGatehouse, type Gatehouse } from '../gatehouse.js';
import { createLogger } from '../core/logger.js';
import { openConfiguredStore } from '../store/open-store.js';
import { configFromFlags } from './config-from-flags.js';
import { CLIUsageError, type CLIIO } from './io.js';
import type { CLIValues } from './command-line.js';

/** Runs `fn` against the configured store, then closes it. Admin commands log nothing but errors. */
async function withGatehouse<T>(values: CLIValues, io: CLIIO, fn: (gatehouse: Gatehouse) => Promise<T>): Promise<T> {
  const config = configFromFlags(values, io);
  const gatehouse = await createGatehouse({ config, logger: createLogger('error') });
  try {
    return await fn(gatehouse);
  } finally {
    await gatehouse.close();
  }
}

/**
 * `gatehouse migrate`: brings the configured store's schema up to date,
 * whatever `database.migrate` says. Needs no secret: it signs nothing.
 */
async function migrateSchema(values: CLIValues, io: CLIIO): Promise<void> {
  const store = await openConfiguredStore(configFromFlags(values, io), { schema: 'migrate' });
  await store.close();
}

async function readPassword(values: CLIValues, io: CLIIO): Promise<string> {
  if (!values['password-stdin']) throw new CLIUsageError('the password is read from standard input: add --password-stdin');
  // One trailing newline is what `echo` adds; anything else is part of the password.
  return (await io.readStdin()).replace(/\r?\n$/, '');
}

function one(rest: readonly string[], what: string): string {
  const [value, ...extra] = rest;
  if (value === undefined || extra.length > 0) throw new CLIUsageError(`expected exactly one ${what}`);
  return value;
}

function print(io: CLIIO, values: CLIValues, json: unknown, text: string): void {
  io.stdout(values.json ? `${JSON.stringify(json)}\n` : `${text}\n`);
}

/** `gatehouse migrate | user … | session …`. Returns the exit code. */
export async function runAdminCommand(command: string, rest: readonly string[], values: CLIValues, io: CLIIO): Promise<number> {
  const [sub, ...args] = rest;
  switch (`${command} ${sub ?? ''}`.trim()) {
    case 'migrate':
      if (rest.length > 0) throw new CLIUsageError('migrate takes no arguments');
      await migrateSchema(values, io);
      print(io, values, { migrated: true }, 'Schema is up to date.');
      return 0;
    case 'user add': {
      const username = one(args, 'username');
      const password = await readPassword(values, io);
      const user = await withGatehouse(values, io, (g) => g.auth.createUser({ username, password, roles: values.role ?? [] }));
      print(io, values, { id: user.id, username: user.username, roles: user.roles }, `Created user ${user.username} (${user.id})${user.roles.length ? ` with roles ${user.roles.join(', ')}` : ''}.`);
      return 0;
    }
    case 'user disable': {
      const username = one(args, 'username');
      const ids = await withGatehouse(values, io, (g) => g.auth.disableUser(username));
      print(io, values, { disabled: true, sessionsRevoked: ids.length }, `Disabled ${username}; ended ${ids.length} session(s).`);
      return 0;
    }
    case 'user set-password': {
      const username = one(args, 'username');
      const password = await readPassword(values, io);
      const ids = await withGatehouse(values, io, (g) => g.auth.setPassword(username, password));
      print(io, values, { sessionsRevoked: ids.length }, `Password changed for ${username}; ended ${ids.length} session(s).`);
      return 0;
    }
    case 'session list': {
      const username = one(args, 'username');
      const sessions = await withGatehouse(values, io, async (g) => g.auth.listSessions((await g.auth.findUser(username)).id));
      const rows = sessions.map((s) => ({
        id: s.id,
        createdAt: new Date(s.createdAt).toISOString(),
        lastSeenAt: new Date(s.lastSeenAt).toISOString(),
        ip: s.ip,
        userAgent: s.userAgent,
      }));
      const text = rows.length === 0 ? `No active sessions for ${username}.` : rows.map((r) => `${r.id}  created ${r.createdAt}  last seen ${r.lastSeenAt}  ${r.ip ?? '-'}  ${r.userAgent ?? '-'}`).join('\n');
      print(io, values, { sessions: rows }, text);
      return 0;
    }
    case 'session revoke': {
      if (values.user !== undefined) {
        if (args.length > 0) throw new CLIUsageError('give either a session id or --user, not both');
        const username = values.user;
        const ids = await withGatehouse(values, io, (g) => g.auth.adminRevokeUserSessions(username));
        print(io, values, { revoked: ids }, `Ended ${ids.length} session(s) of ${username}.`);
        return 0;
      }
      const id = one(args, 'session id');
      await withGatehouse(values, io, (g) => g.auth.adminRevokeSession(id));
      print(io, values, { revoked: [id] }, `Ended session ${id}.`);
      return 0;
    }
    default:
      throw new CLIUsageError(`unknown command "${[command, ...rest].join(' ')}"`);
  }
}
