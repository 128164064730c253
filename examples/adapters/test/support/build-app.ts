import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Framework = 'angular' | 'react' | 'vue';

/** examples/adapters: each app lives in a folder named after its framework, with its own vite.config.ts. */
const EXAMPLES_DIR = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);
const binOf = (pkg: string, bin: string) => join(dirname(require.resolve(`${pkg}/package.json`)), bin);

/**
 * Runs a Node script to completion in a child process with NODE_ENV=production
 * (vitest sets NODE_ENV=test, which would make Vite build React's development
 * bundle); rejects with its output if it fails.
 */
async function runNode(args: readonly string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: EXAMPLES_DIR, env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`node ${args.join(' ')} exited with ${code}:\n${output}`))));
  });
}

/**
 * A production build of the minimal app for `framework`, the same commands as
 * `npm run build:<framework>` in examples/adapters; returns the directory to
 * serve. Angular is compiled ahead of time by `ngc` first (templates
 * type-checked), then bundled by Vite like the others.
 */
export async function buildApp(framework: Framework): Promise<string> {
  const appDir = join(EXAMPLES_DIR, framework);
  if (framework === 'angular') await runNode([binOf('@angular/compiler-cli', 'bundles/src/bin/ngc.js'), '-p', join(appDir, 'tsconfig.json')]);
  await runNode([binOf('vite', 'bin/vite.js'), 'build', appDir, '--logLevel', 'warn']);
  return join(appDir, 'dist', 'app');
}
