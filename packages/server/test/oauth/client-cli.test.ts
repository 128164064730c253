/**
 * `gatehouse client add|list|remove` against a real SQLite file: what an
 * operator types, what is stored (a secret only as its hash), what is refused.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CLIIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { openSQLiteStore } from '../../src/store/sqlite/sqlite-store.js';
import { clientSecretMatches, matchesRedirectURI } from '../../src/oauth/client-registry.js';

const SECRET = 'cli-test-secret-4f9Kq2Lm8Zx1Vb7Nc3Rt6Yw0';
let cwd: string;

beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'gatehouse-client-cli-'));
});
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
  const code = await main(['--data-dir', join(cwd, 'data'), ...argv], io);
  return { code, stdout, stderr };
}

const stored = async (id: string) => {
  const store = openSQLiteStore({ path: join(cwd, 'data', 'gatehouse.db') });
  try {
    return await store.findClient(id);
  } finally {
    await store.close();
  }
};

describe('gatehouse client', () => {
  it('adds a machine client with a secret printed once and stored only as its hash', async () => {
    const added = await run(['client', 'add', 'reports-job', '--type', 'machine', '--scope', 'reports:read', '--json']);
    expect(added).toMatchObject({ code: 0, stderr: '' });
    const shown = JSON.parse(added.stdout) as { secret: string; authentication: string };
    expect(shown.authentication).toBe('client_secret_basic');
    expect(shown.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const client = await stored('reports-job');
    expect(client).toMatchObject({ type: 'machine', scopes: ['reports:read'], jwks: null });
    expect(client?.secretHash).not.toContain(shown.secret);
    expect(clientSecretMatches(client!, shown.secret)).toBe(true);
    // Another last character (never the same one, which would leave the secret unchanged).
    const other = shown.secret.endsWith('A') ? 'B' : 'A';
    expect(clientSecretMatches(client!, `${shown.secret.slice(0, -1)}${other}`)).toBe(false);
    // list never shows it
    const listed = await run(['client', 'list', '--json']);
    expect(listed.stdout).not.toContain(shown.secret);
    expect(listed.stdout).not.toContain(client!.secretHash!);
  });

  it('adds a private_key_jwt client from a PEM public key, and refuses a private key', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(cwd, 'pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(cwd, 'priv.jwk'), JSON.stringify(privateKey.export({ format: 'jwk' })));
    const added = await run(['client', 'add', 'signer-job', '--type', 'machine', '--key-file', 'pub.pem', '--json']);
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ authentication: 'private_key_jwt' });
    expect(JSON.parse(added.stdout)).not.toHaveProperty('secret');
    const client = await stored('signer-job');
    expect(JSON.parse(client!.jwks!)).toEqual({ keys: [expect.objectContaining({ kty: 'OKP', crv: 'Ed25519' })] });
    expect(client?.secretHash).toBeNull();
    const refused = await run(['client', 'add', 'bad-job', '--type', 'machine', '--key-file', 'priv.jwk']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('private key');
    expect(await stored('bad-job')).toBeNull();
  });

  it('adds a native client with exact redirect URIs; refuses http off loopback, localhost, fragments and bare custom schemes', async () => {
    const ok = await run(['client', 'add', 'mobile', '--type', 'native', '--redirect-uri', 'http://127.0.0.1/callback', '--redirect-uri', 'com.example.app:/cb']);
    expect(ok.code).toBe(0);
    for (const uri of ['http://example.com/cb', 'http://localhost/cb', 'https://app.example/cb#x', 'myapp:/cb']) {
      const refused = await run(['client', 'add', `n-${uri.length}`, '--type', 'native', '--redirect-uri', uri]);
      expect(refused.code, uri).toBe(1);
    }
    expect((await run(['client', 'add', 'no-uri', '--type', 'native'])).code).toBe(1);
    expect((await run(['client', 'add', 'x', '--type', 'robot'])).code).toBe(2);
    expect((await run(['client', 'add', 'mobile', '--type', 'native', '--redirect-uri', 'http://127.0.0.1/other'])).stderr).toContain('already exists');
  });

  it('matches redirect URIs exactly, except the port of a loopback URI registered without one', async () => {
    const client = (await stored('mobile'))!;
    expect(matchesRedirectURI(client, 'http://127.0.0.1/callback')).toBe(true);
    expect(matchesRedirectURI(client, 'http://127.0.0.1:53177/callback')).toBe(true);
    expect(matchesRedirectURI(client, 'com.example.app:/cb')).toBe(true);
    for (const uri of ['http://127.0.0.1:53177/callback/', 'http://127.0.0.1:53177/callback?x=1', 'http://127.0.0.2:53177/callback', 'http://localhost:53177/callback', 'com.example.app:/cb2', 'http://127.0.0.1/CALLBACK']) {
      expect(matchesRedirectURI(client, uri), uri).toBe(false);
    }
  });

  it('removes a client; removing it again fails; both are audited', async () => {
    expect(await run(['client', 'remove', 'reports-job'])).toMatchObject({ code: 0 });
    expect(await stored('reports-job')).toBeNull();
    const store = openSQLiteStore({ path: join(cwd, 'data', 'gatehouse.db') });
    try {
      expect((await store.listAudit({ type: 'oauth_client_removed' })).map((e) => e.detail)).toEqual([{ client: 'reports-job', sessionsEnded: 0 }]);
      expect((await store.listAudit({ type: 'oauth_client_added' })).map((e) => e.detail?.['client'])).toContain('reports-job');
    } finally {
      await store.close();
    }
    expect((await run(['client', 'remove', 'reports-job'])).code).toBe(1);
    expect((await run(['client', 'list'])).stdout).not.toContain('reports-job');
  });
});
