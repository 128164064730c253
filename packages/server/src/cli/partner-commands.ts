/**
 * `gatehouse partner add | list | rotate | revoke`: partners who show your
 * data on their own origins, with a publishable key for their pages and a
 * secret key for their servers. Keys are printed once, when made; the store
 * keeps only their hashes.
 */
import type { PartnerKeyKind, PartnerKeyRecord, PartnerRecord } from '../store/store.js';
import { exactlyOne, noOperands, print, withGatehouse } from './admin-support.js';
import { CONFIG_OPTIONS, type Command } from './command.js';
import { CLIUsageError } from './io.js';

/** How a key stands at `now`, for listing. */
function keyState(key: PartnerKeyRecord, now: number): string {
  if (key.revokedAt !== null) return `revoked ${new Date(key.revokedAt).toISOString()}`;
  if (key.expiresAt !== null) return key.expiresAt <= now ? `ended ${new Date(key.expiresAt).toISOString()}` : `ends ${new Date(key.expiresAt).toISOString()}`;
  return 'active';
}

function partnerView(partner: PartnerRecord, now: number) {
  return {
    id: partner.id,
    name: partner.name,
    origins: partner.origins,
    scopes: partner.scopes,
    createdAt: new Date(partner.createdAt).toISOString(),
    keys: partner.keys.map((k) => ({ id: k.id, kind: k.kind, state: keyState(k, now), createdAt: new Date(k.createdAt).toISOString() })),
  };
}

/** Runs an admin operation, turning its input problems (TypeError) into usage errors. */
async function checked<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof TypeError) throw new CLIUsageError(error.message);
    throw error;
  }
}

/** `gatehouse partner add <id> --origin <origin>… --scope <scope>… [--name <name>]`. */
export const partnerAdd: Command = {
  name: 'partner add',
  usage: ['partner add <partner-id> --origin <origin>... --scope <scope>... [--name <name>]'],
  summary: 'Register a partner; prints its publishable and secret keys once',
  options: ['origin', 'scope', 'name', 'json', ...CONFIG_OPTIONS],
  example: 'gatehouse partner add acme --origin https://shop.acme.example --scope catalog:read --name Acme',
  async run(operands, values, io) {
    const id = exactlyOne(operands, 'partner id');
    const added = await withGatehouse(values, io, (g) =>
      checked(() => g.partners.admin.add({ id, origins: values.origin ?? [], scopes: values.scope ?? [], ...(values.name === undefined ? {} : { name: values.name }) })),
    );
    const text = [
      `Registered partner ${id} for ${added.partner.origins.join(', ')} (scopes: ${added.partner.scopes.join(' ')}).`,
      `Publishable key (for its pages on those origins): ${added.publishableKey}`,
      `Secret key (for its servers only; shown once): ${added.secretKey}`,
    ].join('\n');
    print(io, values, { partner: partnerView(added.partner, Date.now()), publishableKey: added.publishableKey, secretKey: added.secretKey }, text);
    return 0;
  },
};

/** `gatehouse partner list`: partners, their origins, scopes and keys (ids and state; never a key). */
export const partnerList: Command = {
  name: 'partner list',
  usage: ['partner list'],
  summary: 'List partners, their origins, scopes and keys (ids only)',
  options: ['json', ...CONFIG_OPTIONS],
  example: 'gatehouse partner list --json',
  async run(operands, values, io) {
    noOperands('partner list', operands);
    const partners = await withGatehouse(values, io, (g) => g.partners.admin.list());
    const now = Date.now();
    const rows = partners.map((p) => partnerView(p, now));
    const text =
      rows.length === 0
        ? 'No partners.'
        : rows
            .map((p) => [`${p.id}  ${p.name}  ${p.origins.join(' ')}  scopes: ${p.scopes.join(' ')}`, ...p.keys.map((k) => `  ${k.id}  ${k.kind}  ${k.state}`)].join('\n'))
            .join('\n');
    print(io, values, { partners: rows }, text);
    return 0;
  },
};

/** `gatehouse partner rotate <id> --kind publishable|secret [--overlap <seconds>]`. */
export const partnerRotate: Command = {
  name: 'partner rotate',
  usage: ['partner rotate <partner-id> --kind publishable|secret [--overlap <seconds>]'],
  summary: 'Issue a new key; the old one keeps working for the overlap (partners.rotationOverlapSeconds)',
  options: ['kind', 'overlap', 'json', ...CONFIG_OPTIONS],
  example: 'gatehouse partner rotate acme --kind secret --overlap 3600',
  async run(operands, values, io) {
    const id = exactlyOne(operands, 'partner id');
    const kind = values.kind;
    if (kind !== 'publishable' && kind !== 'secret') throw new CLIUsageError('--kind is publishable or secret');
    if (values.overlap !== undefined && !/^\d{1,7}$/.test(values.overlap)) throw new CLIUsageError('--overlap is a whole number of seconds');
    const rotated = await withGatehouse(values, io, (g) =>
      checked(() => g.partners.admin.rotate(id, kind as PartnerKeyKind, values.overlap === undefined ? g.config.partners.rotationOverlapSeconds : Number(values.overlap))),
    );
    const ends = new Date(rotated.oldKeysEndAt).toISOString();
    print(
      io,
      values,
      { keyId: rotated.keyId, key: rotated.key, kind, oldKeysEndAt: ends },
      `New ${kind} key for ${id} (shown once): ${rotated.key}\nThe previous ${kind} key(s) stop at ${ends}.`,
    );
    return 0;
  },
};

/** `gatehouse partner revoke <key-id>`: the key stops now, on every instance. */
export const partnerRevoke: Command = {
  name: 'partner revoke',
  usage: ['partner revoke <key-id>'],
  summary: 'Revoke one partner key now, on every instance',
  options: ['json', ...CONFIG_OPTIONS],
  example: 'gatehouse partner revoke 3f2a9c0b7d1e4a6f8b2c5d0e',
  async run(operands, values, io) {
    const keyId = exactlyOne(operands, 'key id');
    const key = await withGatehouse(values, io, (g) => g.partners.admin.revoke(keyId));
    print(io, values, { revoked: key.id, partner: key.partnerId, kind: key.kind }, `Revoked ${key.kind} key ${key.id} of ${key.partnerId}.`);
    return 0;
  },
};
