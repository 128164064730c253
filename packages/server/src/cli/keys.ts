import { createSecretKey, randomBytes } from 'node:crypto';
import { GatehouseError } from '../core/errors.js';
import { SigningKeyFile } from '../core/key-file.js';
import { deriveKeyRing } from '../core/keys.js';
import { generatePrivateJWK, generateSigningKey, signingKeyPhase, SIGNING_ALGORITHMS } from '../core/signing-keys.js';
import { configError } from '../config/resolve.js';
import { signingKeyRetentionMs } from '../gatehouse.js';
import { openConfiguredStore } from '../store/open-store.js';
import type { SigningAlgorithm, SigningKeyRecord } from '../store/store.js';
import { configFromFlags } from './config-from-flags.js';
import { CLIUsageError, type CLIIO } from './io.js';
import type { CLIValues } from './command-line.js';

/**
 * `gatehouse keys list | rotate | generate`. Works on the store directly rather than
 * through a running engine: `rotate --now` must work precisely when the engine
 * would refuse to start (the secret changed and the active key no longer decrypts).
 */
export async function runKeysCommand(rest: readonly string[], values: CLIValues, io: CLIIO): Promise<number> {
  const [sub, ...args] = rest;
  if (sub === 'delete') return deleteKey(args, values, io);
  if (args.length > 0) throw new CLIUsageError(`keys ${sub ?? ''} takes no arguments`);
  if (sub !== 'list' && sub !== 'rotate' && sub !== 'generate') throw new CLIUsageError(`unknown command "keys ${rest.join(' ')}"`);
  if (sub === 'list' && (values.alg !== undefined || values.now === true)) throw new CLIUsageError('--alg and --now are for keys rotate');
  if (sub === 'generate') {
    if (values.now === true) throw new CLIUsageError('--now is for keys rotate');
    // Needs no configuration: it only prints a key for a signing.keysFile.
    io.stdout(`${JSON.stringify(await generatePrivateJWK(rotationAlgorithm(values.alg, 'EdDSA')))}\n`);
    return 0;
  }
  const config = configFromFlags(values, io);
  if (config.signing.keysFile !== undefined) return runOnKeyFile(sub, config.signing.keysFile, values, io);
  if (config.secret === undefined) throw configError(['secret: missing']);
  const store = await openConfiguredStore(config, { schema: 'migrate' });
  try {
    const now = Date.now();
    const retainMs = signingKeyRetentionMs(config);
    if (sub === 'rotate') {
      const alg = rotationAlgorithm(values.alg, config.signing.algorithm);
      const activatesAt = values.now === true ? now : now + config.signing.publishAheadSeconds * 1000;
      const encryptionKey = deriveKeyRing(config.secret).signingKeyEncryption;
      const added = await store.insertSigningKey(await generateSigningKey(alg, encryptionKey, { now, activatesAt }));
      const when = new Date(activatesAt).toISOString();
      io.stdout(
        values.json
          ? `${JSON.stringify({ kid: added.kid, alg: added.alg, activatesAt: when })}\n`
          : `Added ${added.alg} key ${added.kid}; it is published now and signs from ${when}. ` +
              `Running instances pick it up within ${config.signing.syncIntervalSeconds} s; tokens signed by earlier keys stay valid until they expire.\n`,
      );
      return 0;
    }
    const rows = (await store.listSigningKeys()).map((key) => view(key, now, retainMs));
    if (values.json) io.stdout(`${JSON.stringify({ keys: rows })}\n`);
    else if (rows.length === 0) io.stdout(`No signing keys (signing.algorithm is ${config.signing.algorithm}).\n`);
    else io.stdout(`${rows.map(line).join('\n')}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

/**
 * `keys delete <kid>`: withdraws a key at once (a compromised one): from each
 * instance's next key sync its tokens are refused, cached ones too. The key
 * that signs now cannot be deleted; rotate with --now first.
 */
async function deleteKey(args: readonly string[], values: CLIValues, io: CLIIO): Promise<number> {
  const [kid, ...extra] = args;
  if (kid === undefined || extra.length > 0) throw new CLIUsageError('expected exactly one kid');
  if (values.alg !== undefined || values.now === true) throw new CLIUsageError('--alg and --now are for keys rotate');
  const config = configFromFlags(values, io);
  if (config.signing.keysFile !== undefined) {
    throw new CLIUsageError(`the keys live in signing.keysFile (${config.signing.keysFile}): delete by editing it`);
  }
  const store = await openConfiguredStore(config, { schema: 'migrate' });
  try {
    const now = Date.now();
    const key = (await store.listSigningKeys()).find((k) => k.kid === kid);
    if (key === undefined) throw new GatehouseError('KEY_NOT_FOUND');
    if (signingKeyPhase(key, now, signingKeyRetentionMs(config)) === 'active') {
      throw new GatehouseError('KEY_IN_USE');
    }
    await store.deleteSigningKey(kid);
    io.stdout(values.json ? `${JSON.stringify({ deleted: kid })}\n` : `Deleted key ${kid}; running instances stop accepting its tokens within ${config.signing.syncIntervalSeconds} s.\n`);
    return 0;
  } finally {
    await store.close();
  }
}

/** With `signing.keysFile` the file is the truth: list reads it, rotation is editing it. */
async function runOnKeyFile(sub: 'list' | 'rotate', path: string, values: CLIValues, io: CLIIO): Promise<number> {
  if (sub === 'rotate') {
    throw new CLIUsageError(
      `the keys live in signing.keysFile (${path}): rotate by editing it (gatehouse keys generate, then see docs/keys.md)`,
    );
  }
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
