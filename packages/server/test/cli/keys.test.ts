import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CLIIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/core/logger.js';
import { deriveKeyRing } from '../../src/core/keys.js';
import { generateSigningKey } from '../../src/core/signing-keys.js';
import { createGatehouse } from '../../src/gatehouse.js';
import { openConfiguredStore } from '../../src/store/open-store.js';
import type { NewSigningKey } from '../../src/store/store.js';

const SECRET = 'keys-cli-secret-7Hq2Lm8Zx1Vb7Nc3Rt6Yw0aP';
const OTHER_SECRET = 'another-secret-9Jd4Fk1Qw8Er5Ty2Ui7Op3As';

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'gatehouse-keys-cli-'));
});
afterEach(() => {
  rmSync(cwd, { recursive: true, force: true });
});

async function run(argv: readonly string[], env: Record<string, string> = {}, options: { dataDir?: boolean } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CLIIO = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    readStdin: async () => '',
    env: { GATEHOUSE_SECRET: SECRET, ...env },
    cwd,
    stopSignal: new Promise<string>(() => undefined),
  };
  // Options first: an argument after "--" is an operand.
  const code = await main(options.dataDir === false ? argv : ['--data-dir', join(cwd, 'data'), ...argv], io);
  return { code, stdout, stderr };
}

interface Listed {
  kid: string;
  alg: string;
  status: string;
  activatesAt: string;
  retiredAt: string | null;
}
/** A fresh EdDSA key (signing from now) whose thumbprint kid happens to start with "-": drawn until one does. */
async function keyWhoseKidStartsWithDash(): Promise<NewSigningKey> {
  const encryptionKey = deriveKeyRing(SECRET).signingKeyEncryption;
  for (;;) {
    const now = Date.now();
    const key = await generateSigningKey('EdDSA', encryptionKey, { now, activatesAt: now });
    if (key.kid.startsWith('-')) return key;
  }
}

const list = async (env: Record<string, string> = {}): Promise<Listed[]> => (JSON.parse((await run(['keys', 'list', '--json'], env)).stdout) as { keys: Listed[] }).keys;

describe('gatehouse keys', () => {
  it('list: nothing with the default HS256', async () => {
    expect(await run(['keys', 'list'])).toEqual({ code: 0, stdout: 'No signing keys (signing.algorithm is HS256).\n', stderr: '' });
  });

  it('rotate: refused with HS256 unless an algorithm is named', async () => {
    const refused = await run(['keys', 'rotate']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^gatehouse: signing.algorithm is HS256/);
    expect(await list()).toEqual([]);
  });

  it('rotate: publishes a new key that signs after publishAheadSeconds; --now makes it sign at once and retires the previous one', async () => {
    const env = { GATEHOUSE_SIGNING_ALGORITHM: 'EdDSA', GATEHOUSE_SIGNING_PUBLISH_AHEAD_SECONDS: '3600' };
    const added = await run(['keys', 'rotate'], env);
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^Added EdDSA key [\w-]{43}; it is published now and signs from \d{4}-\d\d-\d\dT/);
    const [pending] = await list(env);
    expect(pending).toMatchObject({ alg: 'EdDSA', status: 'pending', retiredAt: null });
    expect(Date.parse(pending!.activatesAt) - Date.now()).toBeGreaterThan(3500_000);

    expect((await run(['keys', 'rotate', '--now', '--alg', 'ES256'], env)).code).toBe(0);
    const keys = await list(env);
    expect(keys.map((k) => [k.alg, k.status])).toEqual([['ES256', 'active'], ['EdDSA', 'retired']]);
    expect(keys[1]?.retiredAt).toBe(keys[0]?.activatesAt);
  });

  it('delete: withdraws a retired key, refuses the signing one and an unknown kid, changing nothing', async () => {
    const env = { GATEHOUSE_SIGNING_ALGORITHM: 'EdDSA' };
    await run(['keys', 'rotate', '--now'], env);
    await run(['keys', 'rotate', '--now'], env);
    const [older, newer] = await list(env);
    expect([older?.status, newer?.status]).toEqual(['retired', 'active']);
    const inUse = await run(['keys', 'delete', newer!.kid], env);
    expect([inUse.code, inUse.stderr]).toEqual([1, 'gatehouse: KEY_IN_USE: That key signs tokens now; run `gatehouse keys rotate --now` first.\n']);
    expect((await run(['keys', 'delete', 'no-such-kid'], env)).stderr).toMatch(/^gatehouse: KEY_NOT_FOUND: /);
    expect(await list(env)).toHaveLength(2);
    expect(await run(['keys', 'delete', older!.kid, '--json'], env)).toEqual({ code: 0, stdout: `{"deleted":"${older!.kid}"}\n`, stderr: '' });
    expect((await list(env)).map((k) => k.kid)).toEqual([newer!.kid]);
    expect((await run(['keys', 'delete'], env)).code).toBe(2);
  });

  it('delete: takes a kid that starts with "-" (one in 64 do) as the kid, also after "--"', async () => {
    const env = { GATEHOUSE_SIGNING_ALGORITHM: 'EdDSA' };
    const dashed = [await keyWhoseKidStartsWithDash(), await keyWhoseKidStartsWithDash()];
    const store = await openConfiguredStore(loadConfig({ env: { GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATA_DIR: join(cwd, 'data'), ...env }, cwd }), { schema: 'migrate' });
    try {
      for (const key of dashed) await store.insertSigningKey(key);
    } finally {
      await store.close();
    }
    expect((await run(['keys', 'rotate', '--now'], env)).code).toBe(0); // retires both
    expect(await run(['keys', 'delete', dashed[0]!.kid], env)).toEqual({ code: 0, stdout: expect.stringMatching(/^Deleted key -/), stderr: '' });
    expect(await run(['keys', 'delete', '--json', '--', dashed[1]!.kid], env)).toEqual({ code: 0, stdout: `{"deleted":"${dashed[1]!.kid}"}\n`, stderr: '' });
    expect((await list(env)).map((k) => k.kid)).not.toContain(dashed[0]!.kid);
    expect(await list(env)).toHaveLength(1);
  });

  it('never prints private key material', async () => {
    await run(['keys', 'rotate', '--now', '--alg', 'RS256']);
    const text = (await run(['keys', 'list'])).stdout + (await run(['keys', 'list', '--json'])).stdout;
    expect(text).toMatch(/RS256 {2}active/);
    expect(text).not.toMatch(/"d"|v1\.|BEGIN|private/i);
  });

  it('usage errors: unknown subcommand, extra argument, bad --alg, rotate flags on list', async () => {
    for (const argv of [['keys'], ['keys', 'delete'], ['keys', 'list', 'x'], ['keys', 'rotate', '--alg', 'HS512'], ['keys', 'list', '--now']]) {
      expect((await run(argv)).code, argv.join(' ')).toBe(2);
    }
    for (const argv of [['keys', 'generate', '--now'], ['keys', 'generate', '--alg', 'HS256']]) {
      expect((await run(argv)).code, argv.join(' ')).toBe(2);
    }
  });

  it('generate: prints a private JWK with kid and alg, usable as a key file entry, without reading any configuration', async () => {
    const printed = await run(['keys', 'generate', '--alg', 'ES256'], { GATEHOUSE_SECRET: '' }, { dataDir: false });
    expect(printed.code).toBe(0);
    const jwk = JSON.parse(printed.stdout) as Record<string, string>;
    expect(jwk).toMatchObject({ alg: 'ES256', kty: 'EC', crv: 'P-256' });
    expect(jwk.kid).toMatch(/^[\w-]{43}$/);
    expect(typeof jwk.d).toBe('string');
    expect(JSON.parse((await run(['keys', 'generate'], { GATEHOUSE_SECRET: '' }, { dataDir: false })).stdout)).toMatchObject({ alg: 'EdDSA', crv: 'Ed25519' });
  });

  it('with signing.keysFile: list reads the file, rotate is refused, and the server checks the file against signing.algorithm', async () => {
    const file = join(cwd, 'keys.json');
    const generate = async () => JSON.parse((await run(['keys', 'generate'], {}, { dataDir: false })).stdout) as { kid: string };
    const keys = [await generate(), await generate()];
    writeFileSync(file, JSON.stringify({ keys }), { mode: 0o600 });
    const env = { GATEHOUSE_SIGNING_ALGORITHM: 'EdDSA', GATEHOUSE_SIGNING_KEYS_FILE: file };
    expect(JSON.parse((await run(['keys', 'list', '--json'], env)).stdout)).toEqual({
      keys: [{ kid: keys[0]?.kid, alg: 'EdDSA', status: 'active' }, { kid: keys[1]?.kid, alg: 'EdDSA', status: 'published' }],
    });
    const rotate = await run(['keys', 'rotate'], env);
    expect(rotate.code).toBe(2);
    expect(rotate.stderr).toMatch(/^gatehouse: the keys live in signing.keysFile/);

    const config = (more: Record<string, string>) =>
      loadConfig({ env: { GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATA_DIR: join(cwd, 'data'), GATEHOUSE_SIGNING_KEYS_FILE: file, ...more }, cwd });
    const logger = createLogger('silent');
    await expect(createGatehouse({ config: config({}), logger })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('HS256') });
    await expect(createGatehouse({ config: config({ GATEHOUSE_SIGNING_ALGORITHM: 'ES256' }), logger })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('is EdDSA, but signing.algorithm is ES256'),
    });
    const gatehouse = await createGatehouse({ config: config({ GATEHOUSE_SIGNING_ALGORITHM: 'EdDSA' }), logger });
    expect(gatehouse.signingKeys?.jwks().keys.map((k) => k.kid)).toEqual(keys.map((k) => k.kid));
    await gatehouse.close();
  });

  it('after a change of secret the server refuses to start until `keys rotate --now` runs with the new secret', async () => {
    const config = (secret: string) =>
      loadConfig({ env: { GATEHOUSE_SECRET: secret, GATEHOUSE_SIGNING_ALGORITHM: 'EdDSA', GATEHOUSE_DATA_DIR: join(cwd, 'data'), GATEHOUSE_LOG_LEVEL: 'silent' }, cwd });
    const logger = createLogger('silent');
    await (await createGatehouse({ config: config(SECRET), logger })).close(); // creates the first key
    await expect(createGatehouse({ config: config(OTHER_SECRET), logger })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect((await run(['keys', 'rotate', '--now'], { GATEHOUSE_SECRET: OTHER_SECRET, GATEHOUSE_SIGNING_ALGORITHM: 'EdDSA' })).code).toBe(0);
    const gatehouse = await createGatehouse({ config: config(OTHER_SECRET), logger });
    expect(gatehouse.signingKeys?.jwks().keys).toHaveLength(2); // the old key still verifies what it signed
    await gatehouse.close();
  });
});
