/** Where the CLI reads and writes, so tests can run commands in-process. */
export interface CLIIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** All of standard input as text. */
  readStdin(): Promise<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  readonly stopSignal: Promise<string>;
}

/** A mistake in how the CLI was called: printed with the usage text, exit code 2. */
export class CLIUsageError extends Error {
  override readonly name = 'CLIUsageError';
}

/** A command that was understood but could not be done; the message says what to do instead. Exit code 1. */
export class CLIFailure extends Error {
  override readonly name = 'CLIFailure';
}

let stop: Promise<string> | undefined;

/** The real process's streams. */
export const processIO: CLIIO = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  async readStdin() {
    if (process.stdin.isTTY) {
      throw new CLIUsageError('--password-stdin reads the password from standard input; pipe it in, e.g. `printf %s "$PW" | gatehouse ...`');
    }
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  env: process.env,
  cwd: process.cwd(),
  get stopSignal() {
    stop ??= new Promise((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    return stop;
  },
};
