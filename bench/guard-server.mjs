// One server under test, in its own process so the load generator gets the other core.
// Usage: node bench/guard-server.mjs <bare|gatehouse> ; prints {"port":N,"cookie":"..."} on stdout.
import { createServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const mode = process.argv[2];
const body = JSON.stringify({ user: { id: 'u1', username: 'bench', roles: ['user'] } });

if (mode === 'bare') {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port, cookie: '' })}\n`));
} else if (mode === 'gatehouse') {
  const { createGatehouse, resolveConfig } = await import("@gatehouse/server");
  const { nodeGuard } = await import('@gatehouse/server/node');
  const { pino } = await import('pino');
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const config = resolveConfig({ secret: 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz', dataDir, accessToken: { ttlSeconds: 3600 }, logLevel: 'silent' });
  const gatehouse = await createGatehouse({ config, logger: pino({ level: 'silent' }) });
  await gatehouse.auth.createUser({ username: 'bench', password: 'a long benchmark passphrase', roles: ['user'] });
  const issued = await gatehouse.auth.login({ username: 'bench', password: 'a long benchmark passphrase' }, { ip: '127.0.0.1', userAgent: 'bench' });
  const guard = nodeGuard(gatehouse);
  const server = createServer(async (req, res) => {
    const auth = await guard(req, res);
    if (auth === undefined) return;
    const out = JSON.stringify({ user: auth.user });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  });
  const cookie = `${config.cookies.accessName}=${issued.accessToken}`;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port, cookie })}\n`));
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
