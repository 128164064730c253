// `gatehouse partner add | list | rotate | revoke`, run in-process against a
// real SQLite file, and the keys they print checked by a running Gatehouse.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CLIIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/core/logger.js';
import { createGatehouse } from '../../src/gatehouse.js';
import { parsePartnerKey } from '../../src/partners/partner-key.js';

const SECRET = 'cli-test-secret-4f9Kq2Lm8Zx1Vb7Nc3Rt6Yw0';
const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-partner-cli-'));
const dataDir = join(cwd, 'data');
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

async function run(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CLIIO = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    readStdin: async () => '',
    env: { GATEHOUSE_SECRET: SECRET },
    cwd,
    stopSignal: new Promise<string>(() => undefined),
  };
  const code = await main(['--data-dir', dataDir, ...argv], io);
  return { code, stdout, stderr };
}

const json = (text: string) => JSON.parse(text) as Record<string, unknown>;

describe('gatehouse partner', () => {
  let publishable = '';
  let secret = '';

  it('add prints both keys once and stores only their hashes', async () => {
    const added = await run(['partner', 'add', 'acme', '--origin', 'https://shop.acme.test', '--origin', 'http://localhost:5173', '--scope', 'catalog:read', '--name', 'Acme', '--json']);
    expect([added.code, added.stderr]).toEqual([0, '']);
    const out = json(added.stdout) as { publishableKey: string; secretKey: string; partner: { origins: string[]; keys: unknown[] } };
    expect(out.partner.origins).toEqual(['https://shop.acme.test', 'http://localhost:5173']);
    expect(out.partner.keys).toHaveLength(2);
    publishable = out.publishableKey;
    secret = out.secretKey;
    expect(parsePartnerKey(publishable)?.kind).toBe('publishable');
    expect(parsePartnerKey(secret)?.kind).toBe('secret');

    const listed = await run(['partner', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('acme  Acme  https://shop.acme.test http://localhost:5173  scopes: catalog:read');
    expect(listed.stdout).toContain(`${parsePartnerKey(secret)?.id}  secret  active`);
    expect(listed.stdout).not.toContain(secret);
    expect(listed.stdout).not.toContain(publishable);
  });

  it('add refuses a taken id (exit 1) and a bad origin (exit 2, naming it)', async () => {
    const taken = await run(['partner', 'add', 'acme', '--origin', 'https://other.test', '--scope', 'x']);
    expect([taken.code, taken.stderr]).toEqual([1, 'gatehouse: PARTNER_ID_TAKEN: A partner with that id already exists.\n']);
    const bad = await run(['partner', 'add', 'beta', '--origin', 'https://beta.test/app', '--scope', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"https://beta.test/app": an origin is scheme://host[:port] and nothing else');
  });

  it('rotate prints a new key; the old one keeps working for the overlap; revoke stops a key; a running Gatehouse agrees', async () => {
    const rotated = await run(['partner', 'rotate', 'acme', '--kind', 'secret', '--overlap', '3600', '--json']);
    expect(rotated.code).toBe(0);
    const { key: newSecret, oldKeysEndAt } = json(rotated.stdout) as { key: string; oldKeysEndAt: string };
    expect(Date.parse(oldKeysEndAt) - Date.now()).toBeGreaterThan(3500_000);
    const revoked = await run(['partner', 'revoke', parsePartnerKey(publishable)?.id ?? '']);
    expect(revoked).toMatchObject({ code: 0, stdout: `Revoked publishable key ${parsePartnerKey(publishable)?.id} of acme.\n` });

    const gatehouse = await createGatehouse({ config: loadConfig({ env: { GATEHOUSE_SECRET: SECRET }, cwd, overrides: { dataDir, 'partners.enabled': true } }), logger: createLogger('silent') });
    try {
      const registry = gatehouse.partners.registry;
      const verdict = (value: string) => {
        const v = registry?.verify(parsePartnerKey(value) ?? { kind: 'secret', id: '', value });
        return v?.ok === true ? 'ok' : v?.code;
      };
      expect(verdict(secret)).toBe('ok'); // in the overlap
      expect(verdict(newSecret)).toBe('ok');
      expect(verdict(publishable)).toBe('PARTNER_KEY_INVALID');
    } finally {
      await gatehouse.close();
    }
  });

  it('rotate needs --kind and a whole --overlap; unknown partners and keys are exit 1', async () => {
    expect((await run(['partner', 'rotate', 'acme'])).code).toBe(2);
    expect((await run(['partner', 'rotate', 'acme', '--kind', 'secret', '--overlap', '1h'])).code).toBe(2);
    expect(await run(['partner', 'rotate', 'nobody', '--kind', 'secret'])).toMatchObject({ code: 1, stderr: 'gatehouse: PARTNER_NOT_FOUND: No such partner.\n' });
    expect(await run(['partner', 'revoke', 'f'.repeat(24)])).toMatchObject({ code: 1, stderr: 'gatehouse: PARTNER_KEY_NOT_FOUND: No partner key with that id.\n' });
  });
});
