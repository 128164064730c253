/**
 * The proof verifier's code is loaded on the first DPoP proof, not at start:
 * a deployment whose clients never send one pays nothing for it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-dpop-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = { secret: 'dpop-lazy-test-secret-0123456789-abcdefghijklm', publicOrigin: 'https://app.example.com', dataDir: dir } as const;

/** Module URLs a child process resolves while starting Gatehouse, verifying one proof if `prove`, and closing. */
async function resolvedModules(prove: boolean): Promise<string> {
  const index = new URL('../../dist/index.js', import.meta.url).href;
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(hooks, 'export async function resolve(s, c, next) { const r = await next(s, c); process.stdout.write(r.url + "\\n"); return r; }\n');
  const register = join(dir, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const script = `
    const { createGatehouse, resolveConfig } = await import(${JSON.stringify(index)});
    const config = resolveConfig({ ...${JSON.stringify(base)}, logLevel: 'silent' });
    const gatehouse = await createGatehouse({ config });
    if (${String(prove)}) await gatehouse.dpop.verify({ method: 'GET', target: '/api', proof: 'not.a.proof' }).catch(() => undefined);
    await gatehouse.close();
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', pathToFileURL(register).href, '--input-type=module', '-e', script]);
  return stdout;
}

describe('the DPoP proof verifier', () => {
  it('is loaded by the first proof (so the check can fail)', async () => {
    expect(await resolvedModules(true)).toContain('/dist/dpop/proof-verifier.js');
  });

  it('is not loaded at start', async () => {
    expect(await resolvedModules(false)).not.toContain('/dist/dpop/proof-verifier.js');
  });
});
