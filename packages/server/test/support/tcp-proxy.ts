import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * What the proxy does with connections:
 * - `forward`: pipes them to the target, like a working network;
 * - `reset`: cuts every open connection and resets new ones, like a database that went down;
 * - `hang`: open connections stop carrying data and new ones are accepted but never
 *   answered, like a database that froze or a route that drops packets.
 * Leaving `hang` cuts the frozen connections.
 */
export type ProxyMode = 'forward' | 'reset' | 'hang';

/** A TCP proxy on loopback that a test can cut, to take a shared server away from one client only. */
export interface TCPProxy {
  readonly port: number;
  setMode(mode: ProxyMode): void;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port in front of `target`. */
export async function startTCPProxy(target: { readonly host: string; readonly port: number }): Promise<TCPProxy> {
  let mode: ProxyMode = 'forward';
  const open = new Set<Socket>();
  const pairs = new Set<readonly [Socket, Socket]>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server: Server = createServer((client) => {
    track(client);
    if (mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    if (mode === 'hang') return;
    const upstream = createConnection(target);
    track(upstream);
    const pair = [client, upstream] as const;
    pairs.add(pair);
    client.pipe(upstream).pipe(client);
    client.on('close', () => {
      upstream.destroy();
      pairs.delete(pair);
    });
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    port: address.port,
    setMode(next) {
      const previous = mode;
      mode = next;
      if (next === 'reset' || previous === 'hang') {
        for (const socket of open) socket.destroy();
      } else if (next === 'hang') {
        // Open connections stay up but nothing crosses any more: a frozen database, not a closed one.
        for (const [client, upstream] of pairs) {
          client.unpipe(upstream);
          upstream.unpipe(client);
          client.pause();
          upstream.pause();
        }
      }
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
