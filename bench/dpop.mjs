// `node bench/dpop.mjs` (after `npm run build`): a DPoP-bound guarded request (RFC 9449) next to
// bare node:http and to an ordinary Bearer request, in the same run, on the same server process
// (pinned to core 0; wrk on core 1). Each DPoP request carries a fresh proof (a replayed jti is
// refused), so the proofs are made beforehand by panva's `dpop` package and a wrk Lua script sends
// each once. Every proof is verified for real: signature (jose), htm, htu, ath, cnf.jkt, and its jti
// written to Gatehouse's consume-once record (SQLite here, as by default; BENCH_REDIS_URL for Redis).
// The figures are the server's CPU time per request (Linux schedstat, every thread) and req/s.
// Each target's sample is paired with bare samples taken just before and after it (bench/measure.mjs).
// Loopback only; bounded in time. Alone it prints a Markdown table (BENCH_OUT=file also writes it
// there); bench/run.mjs runs it with BENCH_JSON=1 for section 7 of BENCHMARKS.md.
//
// Knobs: BENCH_QUICK=1 (one short round), BENCH_ROUNDS (3), BENCH_SECONDS (4), BENCH_CONNECTIONS (32),
// BENCH_DPOP_POOL (proofs made per round; default 60000), BENCH_DPOP_ALG (ES256 | Ed25519 | PS256),
// BENCH_REDIS_URL (jti records in that Redis, SET NX PX, instead of the SQLite store).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { emitSection, knobs, pairedSamples, pin, pinned, sample, summarize } from './measure.mjs';

const { quick: QUICK, rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS } = knobs();
const POOL = Number(process.env.BENCH_DPOP_POOL ?? (QUICK ? 30_000 : 60_000));
const ALG = process.env.BENCH_DPOP_ALG ?? 'ES256';
const REDIS_URL = process.env.BENCH_REDIS_URL;
const USER = { username: 'bench', password: 'a long benchmark passphrase' };

/**
 * The server process: Gatehouse, `/open` bare, `/private` behind nodeGuard. It signs a user in
 * and mints, with Gatehouse's own AccessTokenService (same key, issuer and audience), one
 * ordinary access token and one bound to the key whose thumbprint it is given, as the token
 * endpoint does for a native app that sent a proof.
 */
async function serve() {
  const { createGatehouse, resolveConfig, systemClock } = await import('@gatehouse/server');
  const { nodeGuard } = await import('@gatehouse/server/node');
  // Internal modules, by path: the bench mints the bound token without driving the OAuth flow.
  const { AccessTokenService } = await import('../packages/server/dist/core/access-token.js');
  const { deriveKeyRing } = await import('../packages/server/dist/core/keys.js');
  const [origin, jkt] = process.argv.slice(3);
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-dpop-'));
  const secret = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
  const config = resolveConfig({
    secret,
    dataDir,
    publicOrigin: origin,
    logLevel: 'silent',
    // Proofs are made before each round: the window must cover the round.
    dpop: { proofWindowSeconds: 600 },
    ...(REDIS_URL === undefined ? {} : { redis: { url: REDIS_URL, keyPrefix: `gatehouse-bench-${process.pid}:` } }),
  });
  const gatehouse = await createGatehouse({ config });
  await gatehouse.auth.createUser({ ...USER, roles: ['user'] });
  const issued = await gatehouse.auth.login(USER, { ip: '127.0.0.1', userAgent: 'bench' });
  const tokens = new AccessTokenService(deriveKeyRing(secret).accessToken, config.accessToken, systemClock);
  const mint = (bound) =>
    tokens.issue({ userId: issued.user.id, username: issued.user.username, roles: issued.user.roles, sessionId: issued.session.id, ...(bound ? { jkt } : {}) });
  const bearer = (await mint(false)).token;
  const bound = (await mint(true)).token;
  const guard = nodeGuard(gatehouse);
  const answer = (res, user) => {
    const body = JSON.stringify({ ok: true, user });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const server = createServer((req, res) => {
    if (req.url === '/open') return answer(res, null);
    void guard(req, res).then((auth) => auth !== undefined && answer(res, auth?.user.id ?? null));
  });
  server.listen(Number(new URL(origin).port), '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ bearer, bound })}\n`));
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
      void gatehouse.close().finally(() => {
        rmSync(dataDir, { recursive: true, force: true });
        process.exit(0);
      });
    });
  }
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `count` proofs for GET `url` with `token`, one per line, into `file`. */
async function proofPool(file, count, keys, url, token, generateProof) {
  const out = createWriteStream(file);
  for (let i = 0; i < count; i++) {
    if (!out.write(`${await generateProof(keys, url, 'GET', undefined, token)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/**
 * wrk script: sends each proof of `file` once with `authorization` (headers given to wrk.format
 * replace wrk's -H headers); past the end, a path that 404s (sample() then fails, naming the knob).
 */
function proofScript(path, file, authorization) {
  writeFileSync(
    path,
    `local proofs = {}
for line in io.lines(${JSON.stringify(file)}) do proofs[#proofs + 1] = line end
local i = 0
request = function()
  i = i + 1
  if i > #proofs then return wrk.format("GET", "/exhausted") end
  return wrk.format("GET", "/private", { ["Authorization"] = ${JSON.stringify(authorization)}, ["DPoP"] = proofs[i] })
end
`,
  );
  return path;
}

async function measure() {
  const { generateKeyPair, generateProof, calculateThumbprint } = await import('dpop');
  const keys = await generateKeyPair(ALG);
  const jkt = await calculateThumbprint(keys.publicKey);
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const work = mkdtempSync(join(tmpdir(), 'gatehouse-bench-dpop-wrk-'));
  const [cmd, args] = pin(0, process.execPath, [fileURLToPath(import.meta.url), 'server', origin, jkt]);
  const server = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  process.on('exit', () => server.kill('SIGKILL'));
  const [line] = await once(createInterface({ input: server.stdout }), 'line');
  const { bearer, bound } = JSON.parse(line);
  const url = `${origin}/private`;

  // The DPoP route really verifies: a proof passes once, its replay and the token as Bearer do not.
  const probe = await generateProof(keys, url, 'GET', undefined, bound);
  const statuses = [];
  for (const headers of [{ authorization: `DPoP ${bound}`, dpop: probe }, { authorization: `DPoP ${bound}`, dpop: probe }, { authorization: `Bearer ${bound}` }]) {
    statuses.push((await fetch(url, { headers })).status);
  }
  if (statuses.join() !== '200,401,401') throw new Error(`preflight failed: ${statuses.join()} (want 200,401,401)`);

  const common = { port, pid: server.pid, seconds: SECONDS, connections: CONNECTIONS };
  const bare = { id: 'bare', label: 'bare node:http (same process; baseline)' };
  const bearerTarget = { id: 'bearer', label: 'Bearer access token through nodeGuard (cache hit)' };
  const dpop = { id: 'dpop', label: `DPoP-bound token + a fresh proof through nodeGuard (${ALG}, jti recorded)` };
  let pools = 0;
  const take = async (target) => {
    if (target === bare) return sample({ ...common, id: 'bare', route: { path: '/open', headers: {} } });
    if (target === bearerTarget) return sample({ ...common, id: 'bearer', route: { path: '/private', headers: { authorization: `Bearer ${bearer}` } } });
    const pool = join(work, `proofs-${pools++}`);
    await proofPool(pool, POOL, keys, url, bound, generateProof);
    try {
      return await sample({ ...common, id: 'dpop', route: { path: '/private', headers: {}, script: proofScript(`${pool}.lua`, pool, `DPoP ${bound}`) } });
    } catch (error) {
      throw new Error(`${error.message} (the proofs ran out: raise BENCH_DPOP_POOL above ${POOL})`);
    } finally {
      rmSync(pool, { force: true });
    }
  };
  await take(bare); // warm-up
  await take(bearerTarget);
  const samples = await pairedSamples(bare, [bearerTarget, dpop], ROUNDS, take);
  server.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
  await emitSection({
    section: 'dpop',
    title: 'A DPoP-bound request (issue 11)',
    setup: `${ROUNDS} round(s) × ${SECONDS} s per target, bare sampled before and after every target, \`wrk -t1 -c${CONNECTIONS} --latency\`, ${pinned ? 'server on core 0, wrk on core 1' : 'no core pinning'}; proofs ${ALG} made beforehand by the \`dpop\` package (${POOL} per sample, each sent once), every one verified for real (signature, htm, htu, ath, cnf.jkt), jti records in ${REDIS_URL === undefined ? 'SQLite (the default store)' : 'Redis'}.`,
    baseline: 'bare node:http',
    rows: [bare, bearerTarget, dpop].map((t) => ({ id: t.id, label: t.label, ...(t === bare ? { baseline: true } : {}), ...summarize(samples.get(t.id), t === bare) })),
  });
}

if (process.argv[2] === 'server') await serve();
else await measure();
