/**
 * The Python example of docs/machine-access.md, run by Debian's Python
 * against a real guarded API: a client nobody here wrote in Node, built from
 * the documentation alone.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { nodeSignatureGuard } from '../../src/http/node.js';
import { hmacSignatureKey } from '../../src/signatures/keys.js';
import { SignatureVerifier } from '../../src/signatures/verifier.js';
import { InMemoryConsumeOnce } from './support.js';

const run = promisify(execFile);
const DOC = readFileSync(fileURLToPath(new URL('../../../../docs/machine-access.md', import.meta.url)), 'utf8');
/** Debian's Python, not a pyenv one on PATH. */
const PYTHON = '/usr/bin/python3';
const SECRET = randomBytes(32).toString('base64url');

let dir: string;
let server: Server;
let origin: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-python-'));
  writeFileSync(join(dir, 'partner-a.secret'), `${SECRET}\n`);
  let guard: ReturnType<typeof nodeSignatureGuard> | undefined;
  server = createServer((req, res) => {
    void guard?.(req, res).then((signed) => {
      if (signed === undefined) return;
      res.end(JSON.stringify({ client: signed.signature.keyid, body: signed.body.toString('utf8'), covered: signed.signature.covered }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  guard = nodeSignatureGuard(
    new SignatureVerifier({ keys: [hmacSignatureKey('partner-a', SECRET)], origins: [origin], consumeOnce: new InMemoryConsumeOnce(systemClock) }),
  );
});

afterAll(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  rmSync(dir, { recursive: true, force: true });
});

describe('docs/machine-access.md, the Python example', () => {
  it('signs a request the guard accepts, as written (only the URL pointed at the test server)', async () => {
    // The block under "Sign from another language" in the signed-requests section.
    const section = DOC.slice(DOC.indexOf('### Sign from another language'));
    const example = /```python\n([\s\S]*?)```/.exec(section)?.[1];
    expect(example).toContain('hmac.new(secret');
    const script = (example ?? '').replace('https://api.example.com/api/orders', `${origin}/api/orders`);
    const { stdout } = await run(PYTHON, ['-c', script], { cwd: dir });
    const answer = JSON.parse(stdout) as { client: string; body: string; covered: string[] };
    expect(answer).toEqual({ client: 'partner-a', body: '{"item":"lamp"}', covered: ['@method', '@target-uri', 'content-digest', 'content-type'] });
  });
});
