// The TypeScript examples of docs/client.md's core part (everything before
// "## Frameworks", whose examples the adapters' example apps check) compile
// against the built package, strict, as a user's code would.
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('../', import.meta.url));
const docPath = fileURLToPath(new URL('../../../docs/client.md', import.meta.url));
// Inside the package, so '@gatehouse/client' resolves as it would for a user (and "type": "module" applies).
const workDir = join(packageDir, 'node_modules', '.cache', `gatehouse-client-docs-${process.pid}`);

/** What the examples call but leave to the app. */
const APP_GLOBALS = `
import type { User } from '@gatehouse/client';
declare global {
  function showApp(user: User): void;
  function showLogin(reason?: string): void;
  function showWait(seconds: number | undefined): void;
  function showWrongPassword(): void;
  function showProblem(text: string): void;
  const username: string;
  const password: string;
  const router: {
    beforeEach(guard: (to: { meta: { admin?: boolean }; fullPath: string }) => Promise<boolean | string | { path: string; query: Record<string, string> }>): void;
  };
}
export {};
`;

describe('docs/client.md', () => {
  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('every TypeScript example of the core client compiles (strict, NodeNext, DOM) against the built package', async () => {
    const markdown = await readFile(docPath, 'utf8');
    const core = markdown.slice(0, markdown.indexOf('\n## Frameworks'));
    const blocks = [...core.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
    // The first block creates `auth`; the later ones continue from it.
    const [setup, ...examples] = blocks;
    expect(setup).toContain('createAuthClient');
    expect(examples.length).toBeGreaterThanOrEqual(2);
    await mkdir(workDir, { recursive: true });
    const files = ['example-0.ts', ...examples.map((_, i) => `example-${i + 1}.ts`)];
    await writeFile(join(workDir, 'app-globals.d.ts'), APP_GLOBALS);
    await writeFile(join(workDir, files[0]!), `${setup}\nexport {};\n`);
    await Promise.all(examples.map((example, i) => writeFile(join(workDir, files[i + 1]!), `${setup}\n${example}\nexport {};\n`)));
    await writeFile(
      join(workDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          lib: ['ES2023', 'DOM'],
          types: [],
          skipLibCheck: true,
          noUncheckedIndexedAccess: true,
        },
        files: ['app-globals.d.ts', ...files],
      }),
    );
    const tsc = fileURLToPath(import.meta.resolve('typescript/bin/tsc'));
    const result = await run(process.execPath, [tsc, '-p', join(workDir, 'tsconfig.json')], { cwd: workDir }).catch((error: { stdout?: string }) => error);
    expect('stdout' in result ? result.stdout : '').toBe('');
  }, 60_000);
});
