import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../scale/instance.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const CLI = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));

/** One JSON log line of an instance. */
export interface LogLine {
  readonly msg?: string;
  readonly [field: string]: unknown;
}

/** A Gatehouse instance running in a child process (test/scale/instance.mjs). */
export interface InstanceProcess {
  readonly name: string;
  readonly baseURL: string;
  readonly logs: readonly LogLine[];
  /** Resolves with the first log line from index `from` on that matches, or rejects after `timeoutMs`. */
  waitForLog(match: (line: LogLine) => boolean, options?: { readonly from?: number; readonly timeoutMs?: number }): Promise<LogLine>;
  stop(): Promise<void>;
}

/** The test runner's environment without any GATEHOUSE_* variable, plus `extra`. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('GATEHOUSE_')) env[key] = value;
  return { ...env, ...extra };
}

/** Runs the built `gatehouse` CLI with `env` and standard input; rejects on a non-zero exit. */
export function runCLI(args: readonly string[], env: Record<string, string>, stdin = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`gatehouse ${args.join(' ')} exited ${code}: ${stderr}`))));
    child.stdin.end(stdin);
  });
}

/** Starts an instance with `env` (GATEHOUSE_* variables) and waits until it listens. */
export async function startInstance(name: string, env: Record<string, string>): Promise<InstanceProcess> {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: build first (npx tsc -b packages/server)`);
  const child = spawn(process.execPath, [FIXTURE], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ msg: line });
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const waitForLog: InstanceProcess['waitForLog'] = (match, options = {}) =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = logs.slice(options.from ?? 0).find(match);
        if (found === undefined) return false;
        clearTimeout(timer);
        waiters.delete(wake);
        resolve(found);
        return true;
      };
      const wake = (): void => void check();
      const timer = setTimeout(() => {
        waiters.delete(wake);
        reject(new Error(`${name}: no matching log line within ${options.timeoutMs ?? 10_000} ms; stderr: ${stderr}; log: ${JSON.stringify(logs.slice(-10))}`));
      }, options.timeoutMs ?? 10_000);
      if (!check()) waiters.add(wake);
    });

  const listening = await waitForLog((line) => line.msg === 'gatehouse listening', { timeoutMs: 15_000 });
  return {
    name,
    baseURL: `http://127.0.0.1:${String(listening.port)}`,
    logs,
    waitForLog,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
