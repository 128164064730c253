import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

/** An answer read with node:http, for what `fetch` cannot send (TRACE, chunked uploads, huge headers). */
export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** Parsed JSON, null for an empty body, undefined for one that is not JSON (a framework's own HTML 404). */
  readonly body: any;
}

export interface RawRequestOptions {
  readonly method: string;
  /** Sent exactly as given (`/auth/./me` stays so): never resolved against the base URL. */
  readonly path: string;
  readonly headers?: Record<string, string>;
  /** Sent in one piece with a Content-Length. */
  readonly body?: string;
  /**
   * Streamed with `Transfer-Encoding: chunked` and no Content-Length: chunks of
   * `chunkBytes` until `totalBytes` are written or the server has answered.
   */
  readonly stream?: { readonly chunkBytes: number; readonly totalBytes: number };
  /** Give up when the connection is idle this long (default 5 s), so a hung server fails fast. */
  readonly timeoutMs?: number;
}

function parseJSON(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** What came back on a raw TCP connection. */
export interface RawExchange {
  /** Every byte the server sent, as latin1 text. */
  readonly text: string;
  /** The server ended the connection (rather than the wait running out). */
  readonly closedByServer: boolean;
}

/**
 * Writes `bytes` on a fresh TCP connection and collects what the server sends
 * until it closes the connection or `waitMs` pass: for what no HTTP client
 * will send, such as a body shorter than its Content-Length followed by a
 * second request on the same connection.
 */
export function rawExchange(baseURL: string, bytes: string, waitMs = 1500): Promise<RawExchange> {
  const url = new URL(baseURL);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', (error) => {
      if (text === '') reject(error);
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closedByServer: false });
    }, waitMs);
    socket.on('end', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closedByServer: true });
    });
    socket.write(bytes);
  });
}

/**
 * One request over node:http on a fresh connection. Resolves with the answer
 * even when the server stops reading the upload early (EPIPE and ECONNRESET
 * after the answer arrived are expected then); rejects only when no answer came.
 */
export function rawRequest(baseURL: string, options: RawRequestOptions): Promise<RawResponse> {
  const url = new URL(baseURL);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: options.method, path: options.path, headers: options.headers, agent: false },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parseJSON(text) });
        });
      },
    );
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    req.setTimeout(options.timeoutMs ?? 5000, () => req.destroy(new Error(`no answer to ${options.method} ${options.path}`)));
    if (options.stream === undefined) {
      req.end(options.body);
      return;
    }
    const { chunkBytes, totalBytes } = options.stream;
    const chunk = Buffer.alloc(chunkBytes, 'a');
    let written = 0;
    const pump = (): void => {
      while (!answered && !req.destroyed && written < totalBytes) {
        written += chunkBytes;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered && !req.destroyed) req.end();
    };
    // Give the server a moment per chunk so that it sees a stream, not one burst.
    setImmediate(pump);
  });
}
