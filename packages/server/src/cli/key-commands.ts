import { createSecretKey, randomBytes } from 'node:crypto';
import { GatehouseError } from '../core/errors.js';
import { SigningKeyFile } from '../core/key-file.js';
import { deriveKeyRing } from '../core/keys.js';
import { generatePrivateJWK, generateSigningKey, signingKeyPhase, SIGNING_ALGORITHMS } from '../core/signing-keys.js';
import { configError, type GatehouseConfig } from '../config/resolve.js';
import { signingKeyRetentionMs } from '../gatehouse.js';
import { openConfiguredStore } from '../store/open-store.js';
import type { SigningAlgorithm, SigningKeyRecord, Store } from '../store/store.js';
import { exactlyOne, noOperands, print } from './admin-support.js';
import { CONFIG_OPTIONS, type Command } from './command.js';
import type { CLIValues } from './command-line.js';
import { configFromFlags } from './config-from-flags.js';
import { CLIUsageError, type CLIIO } from './io.js';

/**
 * The `keys` commands work on the store directly rather than through a running
 * engine: `rotate --now` must work precisely when the engine would refuse to
 * start (the secret changed and the active key no longer decrypts).
 */

/** `gatehouse keys list`: the signing keys and their phase; never a private key. */
export const keysList: Command = {
  name: 'keys list',
  usage: ['keys list'],
  summary: 'List the access-token signing keys (asymmetric algorithms)',
  options: ['json', ...CONFIG_OPTIONS],
  example: 'gatehouse keys list --json',
  async run(operands, values, io) {
    noOperands('keys list', operands);
    const config = configFromFlags(values, io);
    if (config.signing.keysFile !== undefined) return listKeyFile(config.signing.keysFile, values, io);
    return withKeyStore(config, async (store) => {
      const now = Date.now();
      const rows = (await store.listSigningKeys()).map((key) => view(key, now, signingKeyRetentionMs(config)));
      if (values.json) io.stdout(`${JSON.stringify({ keys: rows })}\n`);
      else if (rows.length === 0) io.stdout(`No signing keys (signing.algorithm is ${config.signing.algorithm}).\n`);
      else io.stdout(`${rows.map(line).join('\n')}\n`);
      return 0;
    });
  },
};

/** `gatehouse keys rotate`: adds a key that signs after `signing.publishAheadSeconds` (or at once with `--now`). */
export const keysRotate: Command = {
  name: 'keys rotate',
  usage: ['keys rotate [--alg ALG] [--now]'],
  summary: 'Add a signing key; it signs after signing.publishAheadSeconds',
  options: ['alg', 'now', 'json', ...CONFIG_OPTIONS],
  example: 'gatehouse keys rotate --now --alg ES256 --json',
  async run(operands, values, io) {
    noOperands('keys rotate', operands);
    const config = configFromFlags(values, io);
    if (config.signing.keysFile !== undefined) {
      throw new CLIUsageError(
        `the keys live in signing.keysFile (${config.signing.keysFile}): rotate by editing it (gatehouse keys generate, then see docs/keys.md)`,
      );
    }
    return withKeyStore(config, async (store, secret) => {
      const now = Date.now();
      const alg = rotationAlgorithm(values.alg, config.signing.algorithm);
      const activatesAt = values.now === true ? now : now + config.signing.publishAheadSeconds * 1000;
      const encryptionKey = deriveKeyRing(secret).signingKeyEncryption;
      const added = await store.insertSigningKey(await generateSigningKey(alg, encryptionKey, { now, activatesAt }));
      const when = new Date(activatesAt).toISOString();
      io.stdout(
        values.json
          ? `${JSON.stringify({ kid: added.kid, alg: added.alg, activatesAt: when })}\n`
          : `Added ${added.alg} key ${added.kid}; it is published now and signs from ${when}. ` +
              `Running instances pick it up within ${config.signing.syncIntervalSeconds} s; tokens signed by earlier keys stay valid until they expire.\n`,
      );
      return 0;
    });
  },
};

/** `gatehouse keys generate`: prints a private JWK for a `signing.keysFile`; reads no configuration. */
export const keysGenerate: Command = {
  name: 'keys generate',
  usage: ['keys generate [--alg ALG]'],
  summary: 'Print a new private JWK for signing.keysFile',
  options: ['alg'],
  example: 'gatehouse keys generate --alg ES256',
  async run(operands, values, io) {
    noOperands('keys generate', operands);
    io.stdout(`${JSON.stringify(await generatePrivateJWK(rotationAlgorithm(values.alg, 'EdDSA')))}\n`);
    return 0;
  },
};

/**
 * `gatehouse keys delete <kid>`: withdraws a key at once (a compromised one):
 * from each instance's next key sync its tokens are refused, cached ones too.
 * The key that signs now cannot be deleted; rotate with --now first.
 */
export const keysDelete: Command = {
  name: 'keys delete',
  usage: ['keys delete <kid>'],
  summary: 'Withdraw a (compromised) key at once',
  options: ['json', ...CONFIG_OPTIONS],
  idOperand: true,
  example: 'gatehouse keys delete Q1k3yqv7l6wEw8aGmTz1a4Kx0b3T5N8u2Yf9c6Hd0sE',
  async run(operands, values, io) {
    const kid = exactlyOne(operands, 'kid');
    const config = configFromFlags(values, io);
    if (config.signing.keysFile !== undefined) {
      throw new CLIUsageError(`the keys live in signing.keysFile (${config.signing.keysFile}): delete by editing it`);
    }
    const store = await openConfiguredStore(config, { schema: 'migrate' });
    try {
      const key = (await store.listSigningKeys()).find((k) => k.kid === kid);
      if (key === undefined) throw new GatehouseError('KEY_NOT_FOUND');
      if (signingKeyPhase(key, Date.now(), signingKeyRetentionMs(config)) === 'active') throw new GatehouseError('KEY_IN_USE');
      await store.deleteSigningKey(kid);
      print(io, values, { deleted: kid }, `Deleted key ${kid}; running instances stop accepting its tokens within ${config.signing.syncIntervalSeconds} s.`);
      return 0;
    } finally {
      await store.close();
    }
  },
};

/** Opens the store for a command that needs the secret (to seal new private keys), and closes it after. */
async function withKeyStore(config: GatehouseConfig, fn: (store: Store, secret: string) => Promise<number>): Promise<number> {
  if (config.secret === undefined) throw configError(['secret: missing']);
  const secret = config.secret;
  const store = await openConfiguredStore(config, { schema: 'migrate' });
  try {
    return await fn(store, secret);
  } finally {
    await store.close();
  }
}

/** With `signing.keysFile` the file is the truth: list reads it (rotation is editing it). */
async function listKeyFile(path: string, values: CLIValues, io: CLIIO): Promise<number> {
  // The file's private keys are sealed under a throw-away key: list never needs them.
  const records = await new SigningKeyFile(path, createSecretKey(randomBytes(32))).listSigningKeys();
  const rows = records.map((r, i) => ({ kid: r.kid, alg: r.alg, status: i === 0 ? 'active' : 'published' }));
  io.stdout(values.json ? `${JSON.stringify({ keys: rows })}\n` : `${rows.map((r) => `${r.kid}  ${r.alg.padEnd(5)}  ${r.status}`).join('\n')}\n`);
  return 0;
}

function line(r: ReturnType<typeof view>): string {
  const span =
    r.retiredAt === null ? `signs from ${r.activatesAt}`
    : r.retiredAt <= r.activatesAt ? `superseded at ${r.retiredAt} before it signed`
    : `signed from ${r.activatesAt} until ${r.retiredAt}`;
  return `${r.kid}  ${r.alg.padEnd(5)}  ${r.status.padEnd(7)}  ${span}`;
}

function rotationAlgorithm(flag: string | undefined, configured: string): SigningAlgorithm {
  const alg = flag ?? configured;
  if (alg === 'HS256') {
    throw new CLIUsageError('signing.algorithm is HS256, whose key is derived from the secret: set an asymmetric signing.algorithm (or pass --alg EdDSA|ES256|RS256)');
  }
  const known = SIGNING_ALGORITHMS.find((a) => a === alg);
  if (known === undefined) throw new CLIUsageError(`--alg must be one of ${SIGNING_ALGORITHMS.join(', ')}`);
  return known;
}

/** A key as `keys list` shows it: never the private key, sealed or not. */
function view(key: SigningKeyRecord, now: number, retainMs: number) {
  return {
    kid: key.kid,
    alg: key.alg,
    /** pending (published, not signing yet), active (signing), retired (verifies only), expired (about to be deleted). */
    status: signingKeyPhase(key, now, retainMs),
    createdAt: new Date(key.createdAt).toISOString(),
    activatesAt: new Date(key.activatesAt).toISOString(),
    retiredAt: key.retiredAt === null ? null : new Date(key.retiredAt).toISOString(),
  };
}
