import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { isGatehouseError } from '../../src/core/errors.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'gatehouse-signatures-config-'));
  dirs.push(cwd);
});

const SECRET = randomBytes(32).toString('base64url');
const ed = generateKeyPairSync('ed25519');
const ED_PUBLIC = ed.publicKey.export({ format: 'pem', type: 'spki' }).toString();
const ED_PRIVATE = ed.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

function resolve(signatures: ConfigInput['signatures']) {
  return resolveConfig({ publicOrigin: 'https://app.example.com', signatures }, { cwd });
}

/** The CONFIG_INVALID message for `signatures`. */
function problem(signatures: ConfigInput['signatures']): string {
  try {
    resolve(signatures);
  } catch (error) {
    if (isGatehouseError(error, 'CONFIG_INVALID')) return error.message;
    throw error;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('the signatures section', () => {
  it('defaults: no keys, a 5-minute window, publicOrigin as the origin, 1 MiB bodies', () => {
    expect(resolve(undefined).signatures).toEqual({ keys: [], clockSkewSeconds: 300, origins: ['https://app.example.com'], bodyLimitBytes: 1048576 });
  });

  it('reads an inline secret and a public key from a file, and normalises origins', () => {
    writeFileSync(join(cwd, 'robot.pem'), ED_PUBLIC);
    writeFileSync(join(cwd, 'partner.secret'), `${SECRET}\n`);
    const { signatures } = resolve({
      keys: {
        'partner-a': { alg: 'hmac-sha256', secretFile: 'partner.secret' },
        'robot-b': { alg: 'ed25519', publicKeyFile: 'robot.pem' },
        'partner-c': { alg: 'hmac-sha256', secret: SECRET },
      },
      origins: ['https://API.example.com:443'],
      clockSkewSeconds: 60,
    });
    expect(signatures.keys).toEqual([
      { keyid: 'partner-a', alg: 'hmac-sha256', material: SECRET },
      { keyid: 'robot-b', alg: 'ed25519', material: ED_PUBLIC.replace(/\n$/, '') },
      { keyid: 'partner-c', alg: 'hmac-sha256', material: SECRET },
    ]);
    expect(signatures.origins).toEqual(['https://api.example.com']);
    expect(signatures.clockSkewSeconds).toBe(60);
  });

  it('refuses a short secret, naming the field and never quoting the secret', () => {
    const short = randomBytes(16).toString('base64url');
    const message = problem({ keys: { 'partner-a': { alg: 'hmac-sha256', secret: short } } });
    expect(message).toContain('signatures.keys.partner-a.secret: an hmac-sha256 secret must hold at least 32 bytes');
    expect(message).not.toContain(short);
  });

  it('refuses a secret that is not base64', () => {
    expect(problem({ keys: { 'partner-a': { alg: 'hmac-sha256', secret: 'not base64 at all, with spaces and !' } } })).toContain(
      'signatures.keys.partner-a.secret: an hmac-sha256 secret must be base64 or base64url',
    );
  });

  it('refuses both or neither of secret and secretFile', () => {
    expect(problem({ keys: { a: { alg: 'hmac-sha256', secret: SECRET, secretFile: 'x' } } })).toContain('signatures.keys.a: set exactly one of secret and secretFile');
    expect(problem({ keys: { b: { alg: 'ed25519' } } })).toContain('signatures.keys.b: set exactly one of publicKey and publicKeyFile');
  });

  it('refuses an unreadable key file, naming the field and the reason', () => {
    expect(problem({ keys: { 'robot-b': { alg: 'ed25519', publicKeyFile: 'missing.pem' } } })).toContain('signatures.keys.robot-b.publicKeyFile: cannot read missing.pem (ENOENT)');
  });

  it('refuses a private key where the public key belongs, without quoting it', () => {
    const message = problem({ keys: { 'robot-b': { alg: 'ed25519', publicKey: ED_PRIVATE } } });
    expect(message).toContain('signatures.keys.robot-b.publicKey: give the Ed25519 public key, not the private key');
    expect(message).not.toContain(ED_PRIVATE.split('\n')[1]);
  });

  it('refuses a public key of another type', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(problem({ keys: { 'robot-b': { alg: 'ed25519', publicKey: rsa } } })).toContain('signatures.keys.robot-b.publicKey: an rsa key, not Ed25519');
  });

  it('refuses an unknown algorithm and an unusable keyid', () => {
    expect(problem({ keys: { a: { alg: 'rsa-pss-sha512' } } } as unknown as ConfigInput['signatures'])).toContain('signatures.keys.a.alg');
    expect(problem({ keys: { 'has space': { alg: 'hmac-sha256', secret: SECRET } } })).toContain('signatures.keys.has space: a keyid must be 1-128 letters');
  });

  it('refuses an origin with a path', () => {
    expect(problem({ origins: ['https://api.example.com/v1'] })).toContain('signatures.origins.0: must be an origin');
  });
});
