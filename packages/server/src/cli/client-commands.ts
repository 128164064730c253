import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { isGatehouseError } from '../core/errors.js';
import { registerClient } from '../oauth/client-registry.js';
import { clientRemovalVersion, clientRevocationSubject } from '../store/oauth-client-store.js';
import type { OAuthClientRecord } from '../store/store.js';
import { CONFIG_OPTIONS, type Command } from './command.js';
import { exactlyOne, noOperands, print, withGatehouse } from './admin-support.js';
import { CLIFailure, CLIUsageError } from './io.js';

/** A client as `client list` and `client add` show it: never a secret or its hash. */
function describeClient(c: OAuthClientRecord) {
  const auth = c.type === 'native' ? 'none (PKCE)' : c.jwks === null ? 'client_secret_basic' : 'private_key_jwt';
  return { id: c.id, type: c.type, redirectURIs: c.redirectURIs, scopes: c.scopes, authentication: auth, createdAt: new Date(c.createdAt).toISOString() };
}

/** `gatehouse client add <client-id> --type native|machine …`: registers an OAuth client. */
export const clientAdd: Command = {
  name: 'client add',
  usage: [
    'client add <client-id> --type native --redirect-uri URI... [--scope S]...',
    'client add <client-id> --type machine [--scope S]... [--key-file PUBLIC-KEY]',
  ],
  summary: 'Register an OAuth client: a native app, or a machine client (prints its secret once)',
  options: ['type', 'redirect-uri', 'scope', 'key-file', 'json', ...CONFIG_OPTIONS],
  example: 'gatehouse client add reports-job --type machine --scope reports:read',
  async run(operands, values, io) {
    const id = exactlyOne(operands, 'client id');
    const type = values.type;
    if (type !== 'native' && type !== 'machine') throw new CLIUsageError('--type must be native or machine');
    let publicKey: string | undefined;
    const file = values['key-file'];
    if (file !== undefined) {
      try {
        publicKey = readFileSync(resolvePath(io.cwd, file), 'utf8');
      } catch (error) {
        throw new CLIFailure(`cannot read --key-file ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
      }
    }
    const registered = await withGatehouse(values, io, (g) =>
      registerClient(g.store, g.clock, {
        id,
        type,
        redirectURIs: values['redirect-uri'] ?? [],
        scopes: values.scope ?? [],
        ...(publicKey === undefined ? {} : { publicKey }),
      }).catch((error: unknown) => {
        if (error instanceof TypeError) throw new CLIFailure(error.message);
        if (isGatehouseError(error, 'CLIENT_ID_TAKEN')) throw new CLIFailure(`a client ${id} already exists`);
        throw error;
      }),
    );
    const shown = describeClient(registered.client);
    const secretLine =
      registered.secret === null ? '' : `\nClient secret (shown once; store it now, only its hash is kept):\n${registered.secret}`;
    print(io, values, { ...shown, ...(registered.secret === null ? {} : { secret: registered.secret }) }, `Registered ${shown.type} client ${id} (${shown.authentication}).${secretLine}`);
    return 0;
  },
};

/** `gatehouse client list`: every registered client, without secrets. */
export const clientList: Command = {
  name: 'client list',
  usage: ['client list'],
  summary: 'List the registered OAuth clients',
  options: ['json', ...CONFIG_OPTIONS],
  example: 'gatehouse client list --json',
  async run(operands, values, io) {
    noOperands('client list', operands);
    const clients = (await withGatehouse(values, io, (g) => g.store.listClients())).map(describeClient);
    const text =
      clients.length === 0
        ? 'No OAuth clients.'
        : clients.map((c) => `${c.id}  ${c.type}  ${c.authentication}  scopes: ${c.scopes.join(' ') || '-'}  redirect: ${c.redirectURIs.join(' ') || '-'}`).join('\n');
    print(io, values, { clients }, text);
    return 0;
  },
};

/** `gatehouse client remove <client-id>`: unregisters a client and ends every session it was granted. */
export const clientRemove: Command = {
  name: 'client remove',
  usage: ['client remove <client-id>'],
  summary: 'Remove an OAuth client and end the sessions it was granted',
  options: ['json', ...CONFIG_OPTIONS],
  example: 'gatehouse client remove reports-job',
  async run(operands, values, io) {
    const id = exactlyOne(operands, 'client id');
    const ended = await withGatehouse(values, io, async (g) => {
      const at = g.clock.now();
      // One transaction removes the client, ends its sessions and writes the audit event; other
      // instances learn of it from the store's revocation events (the Redis feed when there is one).
      const ended = await g.store.deleteClient(id, at);
      if (ended === null) throw new CLIFailure(`no client ${id}`);
      g.revocations.markUserChanged(clientRevocationSubject(id), clientRemovalVersion(at), at);
      for (const sessionId of ended) g.revocations.revokeSession(sessionId, at);
      return ended;
    });
    print(io, values, { removed: id, revoked: ended }, `Removed client ${id}; ended ${ended.length} session(s).`);
    return 0;
  },
};
