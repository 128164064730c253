/**
 * The static-file handler (`gatehouse serve --static`, the demo) answers
 * every refusal in the JSON error shape of the rest of the API, with a
 * stable code, and serves index.html for client-side routes.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaticHandler } from '../../src/http/static-files.js';

async function serve(root: string): Promise<{ server: Server; base: string }> {
  const server = createServer(createStaticHandler(root));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('static files', () => {
  let root: string;
  let empty: string;
  let app: { server: Server; base: string };
  let bare: { server: Server; base: string };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'gatehouse-static-'));
    empty = await mkdtemp(join(tmpdir(), 'gatehouse-static-empty-'));
    await writeFile(join(root, 'index.html'), '<!doctype html><title>app</title>');
    app = await serve(root);
    bare = await serve(empty);
  });
  afterAll(async () => {
    await new Promise((resolve) => app.server.close(resolve));
    await new Promise((resolve) => bare.server.close(resolve));
    await rm(root, { recursive: true, force: true });
    await rm(empty, { recursive: true, force: true });
  });

  const expectError = async (response: Response, status: number, code: string) => {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await response.json()).toEqual({ error: { code, message: expect.any(String) } });
  };

  it('answers an unknown asset with a JSON 404 NOT_FOUND', async () => {
    await expectError(await fetch(`${app.base}/assets/missing.js`), 404, 'NOT_FOUND');
  });

  it('answers a client-side route without an index.html with a JSON 404 NOT_FOUND', async () => {
    await expectError(await fetch(`${bare.base}/settings`), 404, 'NOT_FOUND');
  });

  it('serves index.html for a client-side route', async () => {
    const response = await fetch(`${app.base}/settings/profile`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<title>app</title>');
  });

  it('answers another method with a JSON 405 METHOD_NOT_ALLOWED and an Allow header', async () => {
    const response = await fetch(`${app.base}/index.html`, { method: 'POST' });
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    await expectError(response, 405, 'METHOD_NOT_ALLOWED');
  });

  it('answers a path that cannot be decoded with a JSON 400 MALFORMED_REQUEST', async () => {
    await expectError(await fetch(`${app.base}/%E0%A4%A`), 400, 'MALFORMED_REQUEST');
  });
});
