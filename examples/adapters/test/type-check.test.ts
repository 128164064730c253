// The framework examples in docs/client.md and the React example app compile
// (strict) against the built @gatehouse/client. Angular's app is type-checked
// by ngc in its own build (strictTemplates); the Vue app's single-file
// components are compiled by Vite, which does not type-check them.
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const EXAMPLES_DIR = fileURLToPath(new URL('../', import.meta.url));
const DOC_PATH = fileURLToPath(new URL('../../../docs/client.md', import.meta.url));
// Inside the repository, so that '@gatehouse/client' and the frameworks resolve as they would for a user.
const WORK_DIR = join(EXAMPLES_DIR, 'node_modules', '.cache', `gatehouse-docs-frameworks-${process.pid}`);
const TSC = fileURLToPath(import.meta.resolve('typescript/bin/tsc'));

/** tsc's complaints about a project, or '' when it compiles. */
async function typeErrors(project: string): Promise<string> {
  const result = await run(process.execPath, [TSC, '-p', project], { cwd: EXAMPLES_DIR }).catch((error: { stdout?: string }) => error);
  return 'stdout' in result ? (result.stdout ?? '') : '';
}

/** The ```ts / ```tsx programs (blocks with imports) of the "## Frameworks" section. */
function frameworkExamples(markdown: string): { lang: 'ts' | 'tsx'; code: string }[] {
  const section = markdown.slice(markdown.indexOf('\n## Frameworks'));
  return [...section.matchAll(/^```(tsx?)\n([\s\S]*?)^```$/gm)]
    .map((m) => ({ lang: m[1] as 'ts' | 'tsx', code: m[2] ?? '' }))
    .filter((block) => block.code.includes('import '));
}

/** The app's own components, which the setup examples take as given. */
function stubsFor(code: string): string {
  if (code.includes('@gatehouse/client/angular')) return 'declare class App {}\ndeclare class Login {}\ndeclare class Account {}\ndeclare class Admin {}\n';
  if (code.includes('@gatehouse/client/react')) return 'declare function Login(): null;\n';
  return "declare const App: import('vue').Component;\ndeclare const Login: import('vue').Component;\ndeclare const Account: import('vue').Component;\ndeclare const Admin: import('vue').Component;\n";
}

describe('type checks', () => {
  afterAll(async () => {
    await rm(WORK_DIR, { recursive: true, force: true });
  });

  it('every framework setup in docs/client.md (under twenty lines each) and the React example app compile', async () => {
    const examples = frameworkExamples(await readFile(DOC_PATH, 'utf8'));
    expect(examples.map((example) => example.code.match(/@gatehouse\/client\/(\w+)/)?.[1])).toEqual(['angular', 'react', 'vue']);
    for (const { code } of examples) expect(code.trimEnd().split('\n').length).toBeLessThan(20);
    await mkdir(WORK_DIR, { recursive: true });
    const files = examples.map((example, i) => `example-${i + 1}.${example.lang}`);
    await Promise.all(examples.map((example, i) => writeFile(join(WORK_DIR, files[i]!), `${example.code}\n${stubsFor(example.code)}`)));
    // One tsc run for both (it is the slow part): the React app's own settings, its sources added.
    const reactApp = JSON.parse(await readFile(join(EXAMPLES_DIR, 'react', 'tsconfig.json'), 'utf8')) as { compilerOptions: object };
    await writeFile(
      join(WORK_DIR, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: reactApp.compilerOptions, files, include: [join(EXAMPLES_DIR, 'react', 'src')] }),
    );
    expect(await typeErrors(join(WORK_DIR, 'tsconfig.json'))).toBe('');
  }, 60_000);
});
