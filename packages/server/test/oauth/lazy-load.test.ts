/**
 * The authorization server's code is loaded only when `oauth.enabled` is
 * true: a configuration that does not use it pays nothing for it (only the
 * table of its paths, which the adapters consult).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-oauth-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = { secret: 'oauth-lazy-test-secret-0123456789-abcdefghijkl', publicOrigin: 'https://app.example.com', dataDir: dir } as const;

/** Module URLs a child process resolves while starting (and closing) Gatehouse with `oauth`. */
async function resolvedModules(oauth: { enabled: boolean }): Promise<string> {
  const index = new URL('../../dist/index.js', import.meta.url).href;
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(hooks, 'export async function resolve(s, c, next) { const r = await next(s, c); process.stdout.write(r.url + "\\n"); return r; }\n');
  const register = join(dir, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const script = `
    const { createGatehouse, resolveConfig } = await import(${JSON.stringify(index)});
    const config = resolveConfig({ ...${JSON.stringify(base)}, logLevel: 'silent', oauth: ${JSON.stringify(oauth)} });
    const gatehouse = await createGatehouse({ config });
    await gatehouse.close();
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', pathToFileURL(register).href, '--input-type=module', '-e', script]);
  return stdout;
}

describe('the OAuth modules', () => {
  it('are loaded when oauth is enabled (so the check can fail)', async () => {
    const modules = await resolvedModules({ enabled: true });
    expect(modules).toContain('/dist/oauth/oauth-routes.js');
    expect(modules).toContain('/dist/oauth/client-token.js');
  });

  it('are not loaded otherwise', async () => {
    const modules = await resolvedModules({ enabled: false });
    expect(modules).not.toContain('/dist/oauth/oauth-routes.js');
    expect(modules).not.toContain('/dist/oauth/client-token.js');
    expect(modules).not.toContain('/dist/oauth/client-registry.js');
  });
});
