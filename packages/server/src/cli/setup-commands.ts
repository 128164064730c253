import { randomBytes } from 'node:crypto';
import { openConfiguredStore } from '../store/open-store.js';
import { noOperands, print } from './admin-support.js';
import { CONFIG_OPTIONS, type Command } from './command.js';
import { configFromFlags } from './config-from-flags.js';

/** A new random secret: 48 bytes from the CSPRNG, base64url. */
export function generateSecret(): string {
  return randomBytes(48).toString('base64url');
}

/** `gatehouse secret generate`: prints a new secret; reads no configuration. */
export const secretGenerate: Command = {
  name: 'secret generate',
  usage: ['secret generate'],
  summary: 'Print a new random secret (base64url, 48 bytes)',
  options: [],
  example: 'gatehouse secret generate > .gatehouse/secret',
  async run(operands, _values, io) {
    noOperands('secret generate', operands);
    io.stdout(`${generateSecret()}\n`);
    return 0;
  },
};

/**
 * `gatehouse migrate`: brings the configured store's schema up to date,
 * whatever `database.migrate` says. Needs no secret: it signs nothing.
 */
export const migrate: Command = {
  name: 'migrate',
  usage: ['migrate'],
  summary: 'Create or upgrade the database schema',
  options: ['json', ...CONFIG_OPTIONS],
  example: 'gatehouse migrate --json',
  async run(operands, values, io) {
    noOperands('migrate', operands);
    const store = await openConfiguredStore(configFromFlags(values, io), { schema: 'migrate' });
    await store.close();
    print(io, values, { migrated: true }, 'Schema is up to date.');
    return 0;
  },
};
