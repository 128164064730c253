import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBrowser } from '../support/test-browser.js';
import { APP_ORIGIN, startGatewayServer, TestUpstream, type GatewayServer } from './gateway-support.js';

/** Bytes moved through the gateway in each direction. Far more than any buffer on the way, kernel ones included. */
const TOTAL = 48 * 1024 * 1024;
const CHUNK = 64 * 1024;
/**
 * The most data that may sit between the two ends: two TCP connections'
 * socket buffers (Linux autotunes loopback ones to several MiB) and a few
 * stream buffers. A gateway that buffered whole bodies would let the whole
 * TOTAL pile up.
 */
const MAX_IN_FLIGHT = 24 * 1024 * 1024;

let upstream: TestUpstream;
let gw: GatewayServer;
let alice: TestBrowser;

beforeAll(async () => {
  upstream = await TestUpstream.start();
  gw = await startGatewayServer({ gateway: { routes: [{ prefix: '/api', upstream: upstream.url, audience: 'api', timeouts: { idleSeconds: 0 } }] } });
  alice = await gw.signedIn();
});

afterAll(async () => {
  await gw.close();
  await upstream.close();
});

/** Resolves on the next macrotask: long enough for sockets to move data, no sleep. */
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));

function unsafeHeaders(): Record<string, string> {
  return { origin: APP_ORIGIN, cookie: alice.cookieHeader('/api'), 'x-xsrf-token': alice.cookie('XSRF-TOKEN') ?? '' };
}

describe('bodies stream through with backpressure', () => {
  it('an upload runs only as far ahead of a slow upstream as the buffers on the way allow', async () => {
    let sent = 0;
    let received = 0;
    let maxAhead = 0;
    upstream.handlers.set('/api/upload', async (req, res) => {
      // A slow reader: one chunk, then a pause, so the sender must be held back.
      for await (const chunk of req) {
        received += (chunk as Buffer).length;
        maxAhead = Math.max(maxAhead, sent - received);
        await tick();
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ received }));
    });
    const answer = await new Promise<string>((resolve, reject) => {
      const url = new URL('/api/upload', gw.baseURL);
      const req = httpRequest({ host: url.hostname, port: url.port, method: 'POST', path: url.pathname, headers: { ...unsafeHeaders(), 'content-type': 'application/octet-stream' } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve(text));
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(CHUNK, 0x61);
      const pump = (): void => {
        while (sent < TOTAL) {
          sent += CHUNK;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(JSON.parse(answer)).toEqual({ received: TOTAL });
    expect(maxAhead).toBeLessThan(MAX_IN_FLIGHT);
  });

  it('a download runs only as far ahead of a slow browser as the buffers on the way allow', async () => {
    let written = 0;
    upstream.handlers.set('/api/download', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(CHUNK, 0x62);
      const pump = (): void => {
        while (written < TOTAL) {
          written += CHUNK;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const response = await fetch(`${gw.baseURL}/api/download`, { headers: { cookie: alice.cookieHeader('/api') } });
    expect(response.status).toBe(200);
    let received = 0;
    let maxAhead = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      received += chunk.length;
      maxAhead = Math.max(maxAhead, written - received);
      await tick();
    }
    expect(received).toBe(TOTAL);
    expect(maxAhead).toBeLessThan(MAX_IN_FLIGHT);
  });
});

describe('Server-Sent Events', () => {
  it('arrive one by one: the first event reaches the browser before the upstream writes the second', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    upstream.handlers.set('/api/events', async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write('data: one\n\n');
      // Only once the browser has seen the first event (a buffering proxy would hold it: the test then times out).
      await released;
      res.end('data: two\n\n');
    });
    const response = await fetch(`${gw.baseURL}/api/events`, { headers: { cookie: alice.cookieHeader('/api'), accept: 'text/event-stream' } });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    const first = await reader.read();
    expect(first.value).toBe('data: one\n\n');
    release();
    let rest = '';
    for (let next = await reader.read(); !next.done; next = await reader.read()) rest += next.value;
    expect(rest).toBe('data: two\n\n');
  });

  it('a browser that goes away closes the upstream’s stream too', async () => {
    let upstreamClosed: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    upstream.handlers.set('/api/feed', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: hello\n\n');
      res.on('close', upstreamClosed);
    });
    const controller = new AbortController();
    const response = await fetch(`${gw.baseURL}/api/feed`, { headers: { cookie: alice.cookieHeader('/api') }, signal: controller.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    controller.abort();
    await closed;
  });
});

describe('connections to the upstream', () => {
  it('are reused: twenty requests in a row need no more than two connections', async () => {
    const before = upstream.connections;
    for (let i = 0; i < 20; i++) expect((await alice.get(`/api/ping/${i}`)).status).toBe(200);
    expect(upstream.connections - before).toBeLessThanOrEqual(2);
  });

  it('HEAD passes through without a body', async () => {
    const response = await fetch(`${gw.baseURL}/api/thing`, { method: 'HEAD', headers: { cookie: alice.cookieHeader('/api') } });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    expect(upstream.last.method).toBe('HEAD');
  });
});
