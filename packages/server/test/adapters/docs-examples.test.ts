import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('../../', import.meta.url));
const docPath = fileURLToPath(new URL('../../../../docs/library.md', import.meta.url));
// Inside the package, so that '@gatehouse/server' and the frameworks resolve as they would for a user.
const workDir = join(packageDir, 'node_modules', '.cache', `gatehouse-docs-${process.pid}`);

/** The ```ts blocks of a Markdown file, in order. */
function typescriptBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
}

describe('docs/library.md', () => {
  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('every TypeScript example compiles (strict, NodeNext) against the built package', async () => {
    const blocks = typescriptBlocks(await readFile(docPath, 'utf8'));
    // The first block creates `gatehouse`; the framework examples start from it. The reference
    // section's blocks are signatures and fragments, not programs.
    const [prelude, ...examples] = blocks.filter((block) => block.includes('import '));
    expect(prelude).toContain('createGatehouse');
    expect(examples.length).toBeGreaterThanOrEqual(5);
    await mkdir(workDir, { recursive: true });
    const files = examples.map((_, i) => `example-${i + 1}.ts`);
    await Promise.all(examples.map((example, i) => writeFile(join(workDir, files[i]!), `${prelude}\n${example}\nexport {};\n`)));
    await writeFile(
      join(workDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', types: ['node'], skipLibCheck: true, noUncheckedIndexedAccess: true },
        files,
      }),
    );
    const tsc = fileURLToPath(import.meta.resolve('typescript/bin/tsc'));
    const result = await run(process.execPath, [tsc, '-p', join(workDir, 'tsconfig.json')], { cwd: workDir }).catch((error: { stdout?: string }) => error);
    expect('stdout' in result ? result.stdout : '').toBe('');
  }, 60_000);
});
