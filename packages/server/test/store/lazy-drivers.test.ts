/**
 * Loading a package costs every request a little (more retained heap, dearer
 * garbage collection: BENCHMARKS.md), so a process loads only the drivers its
 * configuration uses: on SQLite, without Redis, with a logger of the
 * application's own, neither pg nor ioredis nor pino is ever loaded.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-lazy-drivers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Which of pg, ioredis and pino a child process has loaded after starting, using and closing Gatehouse on SQLite. */
async function loadedDrivers(withLogger: boolean): Promise<string[]> {
  const index = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
  const dataDir = mkdtempSync(join(dir, 'data-'));
  const script = `
    import { createRequire } from 'node:module';
    const { createGatehouse, resolveConfig } = await import(${JSON.stringify(index)});
    const config = resolveConfig({ secret: 'lazy-drivers-test-secret-0123456789-abcdefgh', dataDir: ${JSON.stringify(dataDir)}, logLevel: 'silent' });
    const quiet = () => {};
    const logger = { error: quiet, warn: quiet, info: quiet, debug: quiet, trace: quiet, fatal: quiet };
    const gatehouse = await createGatehouse(${withLogger} ? { config, logger } : { config });
    await gatehouse.auth.createUser({ username: 'pat', password: 'a long enough passphrase' });
    await gatehouse.close();
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify(['pg', 'ioredis', 'pino'].filter((name) => loaded.some((k) => k.includes('/node_modules/' + name + '/')))));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: dir });
  return JSON.parse(stdout) as string[];
}

describe('the drivers a process loads', () => {
  it('include pino when no logger is passed in (so the check can fail)', async () => {
    expect(await loadedDrivers(false)).toEqual(['pino']);
  });

  it('are none of pg, ioredis or pino on SQLite, without Redis, with a logger passed in', async () => {
    expect(await loadedDrivers(true)).toEqual([]);
  });
});
