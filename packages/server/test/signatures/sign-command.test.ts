/**
 * `gatehouse sign` end to end: the printed curl command is run by the real
 * curl against a real node:http API behind the signature guard.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CLIIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { systemClock } from '../../src/core/clock.js';
import { nodeSignatureGuard } from '../../src/http/node.js';
import { hmacSignatureKey } from '../../src/signatures/keys.js';
import { SignatureVerifier } from '../../src/signatures/verifier.js';
import { InMemoryConsumeOnce, newEd25519Key } from './support.js';

const shell = promisify(execFile);
const SECRET = randomBytes(32).toString('base64url');
const robot = newEd25519Key('robot-b');

let dir: string;
let server: Server;
let origin: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-sign-'));
  writeFileSync(join(dir, 'partner-a.secret'), `${SECRET}\n`);
  writeFileSync(join(dir, 'robot-b.pem'), robot.signing.key.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(join(dir, 'order.json'), '{"item":"lamp",\n "quantity":2}\n');
  // Verifier and server: an API that echoes who called and what it read.
  let verifier: SignatureVerifier | undefined;
  server = createServer((req, res) => {
    void nodeSignatureGuard(verifier as SignatureVerifier)(req, res).then((signed) => {
      if (signed === undefined) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keyid: signed.signature.keyid, body: signed.body.toString('utf8') }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  verifier = new SignatureVerifier({
    keys: [hmacSignatureKey('partner-a', SECRET), robot.verification],
    origins: [origin],
    consumeOnce: new InMemoryConsumeOnce(systemClock),
  });
  // A configuration that knows partner-a's secret and robot-b's public key.
  writeFileSync(
    join(dir, 'gatehouse.config.json'),
    JSON.stringify({ signatures: { keys: { 'partner-a': { alg: 'hmac-sha256', secretFile: 'partner-a.secret' }, 'robot-b': { alg: 'ed25519', publicKey: robot.publicKeyPEM } } } }),
  );
});

afterAll(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  rmSync(dir, { recursive: true, force: true });
});

async function gatehouse(argv: readonly string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CLIIO = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    readStdin: async () => stdin,
    env: {},
    cwd: dir,
    stopSignal: new Promise<string>(() => undefined),
  };
  return { code: await main(argv, io), stdout, stderr };
}

/** Runs a printed command line in a POSIX shell from the test directory; returns the parsed JSON answer. */
async function runCurl(command: string): Promise<{ keyid?: string; body?: string; error?: { code: string } }> {
  const { stdout } = await shell('/bin/sh', ['-c', `${command.trim()} --silent --show-error`], { cwd: dir });
  return JSON.parse(stdout) as { keyid?: string; body?: string; error?: { code: string } };
}

describe('gatehouse sign', () => {
  it('prints a curl command that passes the guard once, and is refused as a replay the second time', async () => {
    const result = await gatehouse(['sign', 'POST', `${origin}/orders`, '--key-id', 'partner-a', '--key-file', 'partner-a.secret', '--header', 'Content-Type: application/json', '--data', `{"note":"it's here"}`]);
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout).toMatch(/^curl -X POST '/);
    expect(result.stdout).not.toContain(SECRET);
    expect(await runCurl(result.stdout)).toEqual({ keyid: 'partner-a', body: `{"note":"it's here"}` });
    expect((await runCurl(result.stdout)).error?.code).toBe('SIGNATURE_REPLAYED');
  });

  it('takes an hmac secret from signatures.keys when no --key-file is given', async () => {
    const result = await gatehouse(['sign', 'GET', `${origin}/orders/7`, '--key-id', 'partner-a']);
    expect(result.code).toBe(0);
    expect((await runCurl(result.stdout)).keyid).toBe('partner-a');
  });

  it('signs with an Ed25519 private key, a body from a file sent byte for byte', async () => {
    const result = await gatehouse(['sign', 'PUT', `${origin}/orders/7`, '--key-id', 'robot-b', '--key-file', 'robot-b.pem', '--data-file', 'order.json']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`--data-binary '@order.json'`);
    expect(await runCurl(result.stdout)).toEqual({ keyid: 'robot-b', body: '{"item":"lamp",\n "quantity":2}\n' });
  });

  it('--json prints the method, URL and headers to send', async () => {
    const result = await gatehouse(['sign', 'post', `${origin}/orders`, '--key-id', 'partner-a', '--key-file', 'partner-a.secret', '--data-file', '-', '--json'], 'from stdin');
    const printed = JSON.parse(result.stdout) as { method: string; url: string; headers: Record<string, string> };
    expect(printed.method).toBe('POST');
    expect(printed.url).toBe(`${origin}/orders`);
    expect(Object.keys(printed.headers).sort()).toEqual(['content-digest', 'signature', 'signature-input']);
    const response = await fetch(printed.url, { method: printed.method, headers: printed.headers, body: 'from stdin' });
    expect(await response.json()).toEqual({ keyid: 'partner-a', body: 'from stdin' });
  });

  it('refuses an ed25519 keyid without --key-file: the configuration holds only its public key (exit 1)', async () => {
    const result = await gatehouse(['sign', 'GET', `${origin}/x`, '--key-id', 'robot-b']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('robot-b is an ed25519 key');
  });

  it.each([
    [['sign', 'GET', 'https://api.example.test/x'], '--key-id is required'],
    [['sign', 'GET', '/relative', '--key-id', 'partner-a'], 'is not an absolute URL'],
    [['sign', 'GET', 'https://api.example.test/x', '--key-id', 'partner-a', '--header', 'no colon'], 'is not "Name: value"'],
    [['sign', 'GET', 'https://api.example.test/x', '--key-id', 'partner-a', '--data', 'a', '--data-file', 'order.json'], 'not both'],
  ])('usage errors exit 2: %j', async (argv, message) => {
    const result = await gatehouse(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });
});
