import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const FRAMEWORKS = ['express', 'fastify', 'hono', '@hono/node-server'];
const packageDir = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

/**
 * Every module a fresh Node process loads for `import(specifier)`, recorded
 * by a real module-resolution hook (no static guessing), as package-relative
 * URLs. Runs from the package directory, so the package's own devDependencies
 * (the frameworks) are installed and could be loaded if anything asked.
 */
async function modulesLoadedBy(hooksDir: string, specifier: string): Promise<string[]> {
  const { stdout } = await run(
    process.execPath,
    ['--import', pathToFileURL(join(hooksDir, 'register.mjs')).href, '--input-type=module', '-e', `await import(${JSON.stringify(specifier)});`],
    { cwd: packageDir },
  );
  return stdout.split('\n').filter((line) => line !== '');
}

function frameworksIn(urls: readonly string[]): string[] {
  return FRAMEWORKS.filter((name) => urls.some((url) => url.includes(`/node_modules/${name}/`)));
}

describe('frameworks are optional peers', () => {
  let hooksDir: string;
  beforeAll(async () => {
    hooksDir = await mkdtemp(join(tmpdir(), 'gatehouse-hooks-'));
    await writeFile(
      join(hooksDir, 'hooks.mjs'),
      'export async function resolve(specifier, context, next) { const r = await next(specifier, context); process.stdout.write(r.url + "\\n"); return r; }\n',
    );
    await writeFile(join(hooksDir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(hooksDir, 'hooks.mjs')).href)});\n`);
  });
  afterAll(async () => {
    await rm(hooksDir, { recursive: true, force: true });
  });

  it('the hook sees a framework when one is imported (the check can fail)', async () => {
    expect(frameworksIn(await modulesLoadedBy(hooksDir, 'hono'))).toEqual(['hono']);
  });

  it.each(['@gatehouse/server', '@gatehouse/server/node', '@gatehouse/server/express', '@gatehouse/server/fastify', '@gatehouse/server/hono'])(
    'importing %s loads no framework code',
    async (specifier) => {
      const loaded = await modulesLoadedBy(hooksDir, specifier);
      expect(loaded.some((url) => url.includes('/packages/server/dist/'))).toBe(true);
      expect(frameworksIn(loaded)).toEqual([]);
    },
  );

  it('declares every framework as an optional peer dependency', () => {
    const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
      dependencies: Record<string, string>;
    };
    for (const name of ['express', 'fastify', 'hono']) {
      expect({ name, range: manifest.peerDependencies[name], optional: manifest.peerDependenciesMeta[name]?.optional }).toMatchObject({ name, optional: true });
      expect(manifest.dependencies[name]).toBeUndefined();
    }
  });
});
