// `node bench/signatures.mjs` (`npm run bench:signatures`): an RFC 9421-signed request through
// nodeSignatureGuard next to bare node:http, in the same run, on the same server process (pinned
// to core 0; wrk on core 1). Every signed request carries its own nonce (a replayed one would be
// refused), so the requests are signed beforehand, a fresh file per sample, and a wrk Lua script
// sends each exactly once. The nonce goes through Gatehouse's real consume-once record (SQLite
// here, as by default). The figure is the server's CPU time per request, each signed sample
// paired with bare samples taken just before and after it (bench/measure.mjs). Alone it prints a
// Markdown table; bench/run.mjs runs it with BENCH_JSON=1 for section 6 of BENCHMARKS.md.
//
// Knobs: BENCH_QUICK=1 (one short round), BENCH_ROUNDS (3), BENCH_SECONDS (4), BENCH_CONNECTIONS (32),
// BENCH_SIGNED_POOL (requests signed per sample; default 80000, quick 20000), BENCH_ALG (hmac-sha256 | ed25519),
// BENCH_REDIS_URL (nonces in that Redis, SET NX PX, instead of the SQLite store; a key prefix of its own).
import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { emitSection, knobs, pairedSamples, pin, pinned, sample, summarize } from './measure.mjs';

const { quick: QUICK, rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS } = knobs();
const POOL = Number(process.env.BENCH_SIGNED_POOL ?? (QUICK ? 20_000 : 80_000));
const ALG = process.env.BENCH_ALG ?? 'hmac-sha256';
const KEYID = 'bench-client';
const REDIS_URL = process.env.BENCH_REDIS_URL;

/** The server process: Gatehouse with one signing client, `/open` bare and `/signed` behind the guard. */
async function serve() {
  const { createGatehouse, resolveConfig } = await import('@gatehouse/server');
  const { nodeSignatureGuard } = await import('@gatehouse/server/node');
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-signatures-'));
  const key = JSON.parse(process.argv[3]);
  const origin = process.argv[4];
  const config = resolveConfig({
    secret: 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
    dataDir,
    logLevel: 'silent',
    signatures: { origins: [origin], keys: { [KEYID]: key } },
    ...(REDIS_URL === undefined ? {} : { redis: { url: REDIS_URL, keyPrefix: `gatehouse-bench-${process.pid}:` } }),
  });
  const gatehouse = await createGatehouse({ config });
  const guard = nodeSignatureGuard(gatehouse.signatures);
  const answer = (res, keyid) => {
    const body = JSON.stringify({ ok: true, client: keyid });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const server = createServer((req, res) => {
    if (req.url === '/open') return answer(res, null);
    void guard(req, res).then((signed) => signed !== undefined && answer(res, signed.signature.keyid));
  });
  const port = Number(new URL(origin).port);
  server.listen(port, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port })}\n`));
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
      void gatehouse.close().finally(() => {
        rmSync(dataDir, { recursive: true, force: true });
        process.exit(0);
      });
    });
  }
}

function need(command, args, hint) {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if (error.code === 'ENOENT') {
      console.error(`${command} is required: ${hint}`);
      process.exit(1);
    }
    return `${error.stdout ?? ''}${error.stderr ?? ''}`;
  }
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Signs `count` GETs of `/signed`, one per line (`signature-input` TAB `signature`), into `file`. */
async function signPool(file, count, signingKey, origin, signRequest) {
  const out = createWriteStream(file);
  for (let i = 0; i < count; i++) {
    const headers = signRequest({ method: 'GET', url: `${origin}/signed` }, { key: signingKey, expiresInSeconds: 300 });
    if (!out.write(`${headers['signature-input']}\t${headers.signature}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** wrk script: sends each line of `file` once; past the end, a path that 404s (sample() then fails, naming the knob). */
function signedScript(path, file) {
  writeFileSync(
    path,
    `local lines = {}
for line in io.lines(${JSON.stringify(file)}) do lines[#lines + 1] = line end
local index = 0
request = function()
  index = index + 1
  local line = lines[index]
  if line == nil then return wrk.format("GET", "/exhausted") end
  local tab = line:find("\\t", 1, true)
  return wrk.format("GET", "/signed", { ["Signature-Input"] = line:sub(1, tab - 1), ["Signature"] = line:sub(tab + 1) })
end
`,
  );
  return path;
}

async function measure() {
  need('wrk', ['-v'], 'install it with `apt-get install -y wrk` (Debian/Ubuntu).');
  const { hmacSignatureKey, ed25519SigningKey, signRequest } = await import('@gatehouse/server');
  const work = mkdtempSync(join(tmpdir(), 'gatehouse-bench-wrk-'));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;

  let configKey;
  let signingKey;
  if (ALG === 'ed25519') {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    configKey = { alg: 'ed25519', publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString() };
    signingKey = ed25519SigningKey(KEYID, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
  } else {
    const secret = randomBytes(32).toString('base64url');
    configKey = { alg: 'hmac-sha256', secret };
    signingKey = hmacSignatureKey(KEYID, secret);
  }

  const [cmd, args] = pin(0, process.execPath, [fileURLToPath(import.meta.url), 'server', JSON.stringify(configKey), origin]);
  const server = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  // However this run ends, the server process goes with it.
  process.on('exit', () => server.kill('SIGKILL'));
  await once(createInterface({ input: server.stdout }), 'line');

  // A check that the signed route really verifies (and that a replay would not).
  const probe = signRequest({ method: 'GET', url: `${origin}/signed` }, { key: signingKey });
  const first = await fetch(`${origin}/signed`, { headers: probe });
  const again = await fetch(`${origin}/signed`, { headers: probe });
  if (first.status !== 200 || again.status !== 401) throw new Error(`preflight failed: ${first.status} then ${again.status}`);

  const common = { port, pid: server.pid, seconds: SECONDS, connections: CONNECTIONS };
  const bare = { id: 'bare', label: 'bare node:http (same process; baseline)' };
  const signed = { id: 'signed', label: `RFC 9421-signed GET through nodeSignatureGuard (${ALG}, nonce recorded)` };
  let pools = 0;
  const take = async (target) => {
    if (target === bare) return sample({ ...common, id: 'bare', route: { path: '/open', headers: {} } });
    const pool = join(work, `pool-${pools++}`);
    await signPool(pool, POOL, signingKey, origin, signRequest);
    try {
      return await sample({ ...common, id: 'signed', route: { path: '/signed', headers: {}, script: signedScript(`${pool}.lua`, pool) } });
    } catch (error) {
      throw new Error(`${error.message} (the signed requests ran out: raise BENCH_SIGNED_POOL above ${POOL})`);
    } finally {
      rmSync(pool, { force: true });
    }
  };
  await take(bare); // warm-up
  const samples = await pairedSamples(bare, [signed], ROUNDS, take);
  server.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
  await emitSection({
    section: 'signatures',
    title: 'An RFC 9421-signed request (issue 11)',
    setup: `${ROUNDS} round(s) × ${SECONDS} s per target, bare sampled before and after the signed target, \`wrk -t1 -c${CONNECTIONS} --latency\`, ${pinned ? 'server on core 0, wrk on core 1' : 'no core pinning'}; ${ALG}, every request signed beforehand with its own nonce (${POOL} per sample) and sent once, nonces recorded in ${REDIS_URL === undefined ? 'SQLite (the default store)' : 'Redis'}.`,
    baseline: 'bare node:http',
    rows: [
      { id: bare.id, label: bare.label, baseline: true, ...summarize(samples.get(bare.id), true) },
      { id: signed.id, label: signed.label, ...summarize(samples.get(signed.id)) },
    ],
  });
}

if (process.argv[2] === 'server') await serve();
else await measure();
