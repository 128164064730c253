import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Why a server could not listen, in words a person starting it can act on. */
export class ListenError extends Error {
  override readonly name = 'ListenError';

  constructor(
    /** `EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`, or another `listen` error code. */
    readonly code: string,
    readonly port: number,
    readonly host: string,
    options: { cause: unknown },
  ) {
    super(explain(code, port, host), options);
  }
}

function explain(code: string, port: number, host: string): string {
  switch (code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is already in use (another Gatehouse, or another program)`;
    case 'EACCES':
      return `port ${port} on ${host} needs privileges this process does not have (ports below 1024 usually do)`;
    case 'EADDRNOTAVAIL':
      return `address ${host} is not one of this machine's addresses`;
    default:
      return `cannot listen on ${host}:${port} (${code})`;
  }
}

/**
 * Starts `server` listening and resolves with the port actually bound (with
 * port 0, the one the system picked). A port in use, or one the process may
 * not bind, rejects with a {@link ListenError} that says so plainly, never a
 * bare `listen EADDRINUSE` stack.
 *
 * @example
 * ```ts
 * const port = await listen(createNodeServer(gatehouse), 8080, 'localhost');
 * ```
 */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => reject(new ListenError(error.code ?? 'UNKNOWN', port, host, { cause: error }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * When browsers talk to this server directly (a `publicOrigin` on localhost)
 * but on another port than the one bound, every sign-in from the page it
 * serves fails the Origin check. Returns the origin those browsers use, or
 * `null` when `publicOrigin` fits (or is not a local origin: behind a proxy
 * the ports differ on purpose).
 *
 * @example
 * ```ts
 * unmatchedLocalOrigin('http://localhost:8080', 8081); // 'http://localhost:8081'
 * unmatchedLocalOrigin('https://app.example.com', 8081); // null
 * ```
 */
export function unmatchedLocalOrigin(publicOrigin: string, port: number): string | null {
  const origin = new URL(publicOrigin);
  if (!LOOPBACK_HOSTS.has(origin.hostname)) return null;
  const originPort = Number(origin.port || (origin.protocol === 'https:' ? 443 : 80));
  return originPort === port ? null : `${origin.protocol}//${origin.hostname}:${port}`;
}
