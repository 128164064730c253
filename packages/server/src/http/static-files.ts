import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { GatehouseError, type ErrorCode } from '../core/errors.js';
import { SECURITY_HEADERS } from './responses.js';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** The Content-Security-Policy for the SPA's HTML: same-origin scripts, styles and requests only. */
export const SPA_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** Answers the JSON error shape every Gatehouse endpoint uses, with the code table's status and message. */
function sendError(res: ServerResponse, code: ErrorCode, headers: Readonly<Record<string, string>> = {}): void {
  const error = new GatehouseError(code);
  const body = JSON.stringify({ error: { code, message: error.message } });
  res.writeHead(error.status, {
    ...SECURITY_HEADERS,
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/**
 * Serves a built single-page app from `root`. Paths that do not name a file
 * get `index.html` (client-side routing); paths are resolved so that nothing
 * outside `root` can be reached.
 */
export function createStaticHandler(root: string, options: { readonly csp?: string } = {}): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const base = normalize(root + sep);
  const csp = options.csp ?? SPA_CSP;
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, 'METHOD_NOT_ALLOWED', { allow: 'GET, HEAD' });
      return;
    }
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      sendError(res, 'MALFORMED_REQUEST');
      return;
    }
    let file = normalize(join(base, pathname));
    if (!file.startsWith(base) || pathname.includes('\0')) file = join(base, 'index.html');
    let info = await stat(file).catch(() => null);
    if (info === null || !info.isFile()) {
      // Unknown asset paths 404; anything else is a client-side route.
      if (extname(pathname) !== '') {
        sendError(res, 'NOT_FOUND');
        return;
      }
      file = join(base, 'index.html');
      info = await stat(file).catch(() => null);
      if (info === null) {
        sendError(res, 'NOT_FOUND');
        return;
      }
    }
    const type = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
    const headers: Record<string, string | number> = {
      ...SECURITY_HEADERS,
      'content-type': type,
      'content-length': info.size,
      // HTML must be revalidated so a deploy is picked up; assets may be cached briefly.
      'cache-control': type.startsWith('text/html') ? 'no-cache' : 'public, max-age=300',
    };
    if (type.startsWith('text/html')) headers['content-security-policy'] = csp;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  };
}
