import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { createLogger } from '../../src/core/logger.js';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.js';
import { TEST_SECRET } from '../support/test-server.js';

const open: { gatehouse: Gatehouse; dataDir: string }[] = [];
afterEach(async () => {
  for (const { gatehouse, dataDir } of open.splice(0)) {
    await gatehouse.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

/** A Gatehouse on a real SQLite file, served from `publicOrigin`. */
async function gatehouseAt(publicOrigin: string): Promise<Gatehouse> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-password-context-'));
  const config = resolveConfig({ secret: TEST_SECRET, dataDir, publicOrigin, logLevel: 'silent' });
  const gatehouse = await createGatehouse({ config, logger: createLogger('silent') });
  open.push({ gatehouse, dataDir });
  return gatehouse;
}

describe('the library API refuses passwords built on context words (ASVS 6.2.11)', () => {
  it('createUser: the username, the product name and the words of publicOrigin\'s host', async () => {
    const gatehouse = await gatehouseAt('https://notes.acme-shop.com');
    for (const password of ['dora.explorer!', 'Gatehouse2026!', 'acme-shop2026', 'notes.acme-shop.com1']) {
      await expect(gatehouse.auth.createUser({ username: 'dora.explorer', password }), password).rejects.toMatchObject({ code: 'PASSWORD_POLICY' });
    }
    expect(await gatehouse.store.findUserByUsername('dora.explorer')).toBeNull();
    await expect(gatehouse.auth.createUser({ username: 'dora.explorer', password: 'a shop called acme-shop sells maps' })).resolves.toMatchObject({ username: 'dora.explorer' });
  });

  it('setPassword: the same words, and the old password stays', async () => {
    const gatehouse = await gatehouseAt('https://notes.acme-shop.com');
    await gatehouse.auth.createUser({ username: 'dora.explorer', password: 'correct horse battery staple' });
    for (const password of ['DORA.EXPLORER.2026', 'gatehouse!!2026', 'acme-shop-notes']) {
      await expect(gatehouse.auth.setPassword('dora.explorer', password), password).rejects.toMatchObject({ code: 'PASSWORD_POLICY' });
    }
    const signedIn = await gatehouse.auth.login({ username: 'dora.explorer', password: 'correct horse battery staple' }, { ip: '127.0.0.1', userAgent: null });
    expect(signedIn.user.username).toBe('dora.explorer');
  });
});
