// `node bench/signatures.mjs`: an RFC 9421-signed request through nodeSignatureGuard next to bare
// node:http, in the same run, on the same server process (pinned to core 0; wrk on core 1).
// Every signed request carries its own nonce (a replayed one would be refused), so the requests
// are signed beforehand, one file per wrk thread, and a wrk Lua script sends each exactly once.
// The nonce goes through Gatehouse's real consume-once record (SQLite here, as by default).
// Loopback only; bounded in time (rounds × 2 × seconds). Prints a Markdown table.
//
// Knobs: BENCH_ROUNDS (3), BENCH_SECONDS (5), BENCH_CONNECTIONS (32), BENCH_THREADS (2),
// BENCH_SIGNED_POOL (requests signed per thread per round; default 150000), BENCH_ALG (hmac-sha256 | ed25519),
// BENCH_REDIS_URL (nonces in that Redis, SET NX PX, instead of the SQLite store; a key prefix of its own).
import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const POOL = Number(process.env.BENCH_SIGNED_POOL ?? 150_000);
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

/** wrk script: each thread sends the lines of its own file once each, then marks the rest as "exhausted". */
const LUA = `
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  lines = {}
  for line in io.lines(args[1] .. id) do lines[#lines + 1] = line end
  index = 0
end
function request()
  index = index + 1
  local line = lines[index]
  if line == nil then return wrk.format("GET", "/exhausted") end
  local tab = line:find("\\t", 1, true)
  return wrk.format("GET", "/signed", { ["Signature-Input"] = line:sub(1, tab - 1), ["Signature"] = line:sub(tab + 1) })
end
`;

function parseWrk(text) {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0);
  const total = Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN);
  const p50 = /50%\s+([\d.]+\w+)/.exec(text)?.[1] ?? '?';
  const p99 = /99%\s+([\d.]+\w+)/.exec(text)?.[1] ?? '?';
  return { rps, non2xx, total, p50, p99 };
}

async function measure() {
  const wrkVersion = need('wrk', ['-v'], 'install it with `apt-get install -y wrk` (Debian/Ubuntu).').split('\n')[0].trim();
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

  const pinned = cpus().length >= 2 && need('taskset', ['-V'], '') !== '';
  const pin = (core, cmd, args) => (pinned ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]);
  const [cmd, args] = pin(0, process.execPath, [fileURLToPath(import.meta.url), 'server', JSON.stringify(configKey), origin]);
  const server = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  // However this run ends, the server process goes with it.
  process.on('exit', () => server.kill('SIGKILL'));
  await once(createInterface({ input: server.stdout }), 'line');

  const script = join(work, 'signed.lua');
  writeFileSync(script, LUA);
  const wrk = (path, extra, scriptArgs = []) => {
    const [wcmd, wargs] = pin(1, 'wrk', ['-t', String(THREADS), '-c', String(CONNECTIONS), '-d', `${SECONDS}s`, '--latency', ...extra, `${origin}${path}`, ...scriptArgs]);
    return parseWrk(execFileSync(wcmd, wargs, { encoding: 'utf8' }));
  };

  // Warm-up, and a check that the signed route really verifies (and that a replay would not).
  const probe = signRequest({ method: 'GET', url: `${origin}/signed` }, { key: signingKey });
  const first = await fetch(`${origin}/signed`, { headers: probe });
  const again = await fetch(`${origin}/signed`, { headers: probe });
  if (first.status !== 200 || again.status !== 401) throw new Error(`preflight failed: ${first.status} then ${again.status}`);
  wrk('/open', []);

  const rows = { bare: [], signed: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const prefix = join(work, `pool-${round}-`);
    for (let t = 0; t < THREADS; t++) await signPool(`${prefix}${t}`, POOL, signingKey, origin, signRequest);
    rows.bare.push(wrk('/open', []));
    const signed = wrk('/signed', ['-s', script], ['--', prefix]);
    rows.signed.push(signed);
    if (signed.non2xx > 0) console.error(`round ${round + 1}: ${signed.non2xx} signed requests were not 200 (a pool too small shows as /exhausted 404s)`);
  }
  server.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });

  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const bare = median(rows.bare.map((r) => r.rps));
  const signed = median(rows.signed.map((r) => r.rps));
  const line = (label, r, rps) => `| ${label} | ${Math.round(rps).toLocaleString('en')} | ${(rps / bare).toFixed(2)} | ${r.p50} | ${r.p99} | ${r.non2xx} |`;
  const pick = (list, rps) => list.find((r) => r.rps === rps) ?? list[0];
  console.log(`wrk ${wrkVersion}; ${THREADS} threads, ${CONNECTIONS} connections, ${SECONDS} s × ${ROUNDS} rounds (median); ${pinned ? 'server on core 0, wrk on core 1' : 'no core pinning'}; ${ALG}, nonces in ${REDIS_URL === undefined ? 'SQLite (the default store)' : 'Redis'}.\n`);
  console.log('| request | req/s | × bare | p50 | p99 | non-2xx |');
  console.log('|---|---|---|---|---|---|');
  console.log(line('bare node:http (same process)', pick(rows.bare, bare), bare));
  console.log(line(`RFC 9421-signed GET through nodeSignatureGuard (${ALG})`, pick(rows.signed, signed), signed));
}

if (process.argv[2] === 'server') await serve();
else await measure();
