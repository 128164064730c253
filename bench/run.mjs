// `npm run bench`: every app in its own process pinned to one core, wrk pinned to the other,
// interleaved rounds, medians, every figure as a ratio to bare node:http from the same run.
// Writes BENCHMARKS.md (or BENCH_OUT) and prints the tables. Loopback only; bounded in time
// (about apps × (rounds × seconds + warm-up) plus the rates, ≈ 5 minutes with the defaults).
//
// Needs wrk (Debian: apt-get install -y wrk); pins cores with taskset (util-linux) when it is there.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? SECONDS);
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
const OUT = process.env.BENCH_OUT ?? fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
const serversScript = fileURLToPath(new URL('./servers.mjs', import.meta.url));
const ratesScript = fileURLToPath(new URL('./rates.mjs', import.meta.url));

/** What is measured: app process, the route in it, the row's label and its group. */
const TARGETS = [
  { id: 'bare', app: 'bare', route: 'open', label: 'bare node:http (baseline)', group: 'gatehouse', framework: 'node' },
  { id: 'node-hs256', app: 'gatehouse-node:HS256', route: 'guarded', label: 'Gatehouse on node:http, HS256', group: 'gatehouse', framework: 'node', alg: 'HS256' },
  { id: 'node-eddsa', app: 'gatehouse-node:EdDSA', route: 'guarded', label: 'Gatehouse on node:http, EdDSA', group: 'gatehouse', framework: 'node', alg: 'EdDSA' },
  { id: 'fastify-open', app: 'gatehouse-fastify:HS256', route: 'open', label: 'Fastify, unguarded route', group: 'gatehouse', framework: 'fastify' },
  { id: 'fastify-hs256', app: 'gatehouse-fastify:HS256', route: 'guarded', label: 'Gatehouse on Fastify, HS256', group: 'gatehouse', framework: 'fastify', alg: 'HS256' },
  { id: 'fastify-eddsa', app: 'gatehouse-fastify:EdDSA', route: 'guarded', label: 'Gatehouse on Fastify, EdDSA', group: 'gatehouse', framework: 'fastify', alg: 'EdDSA' },
  { id: 'express-open', app: 'gatehouse-express:HS256', route: 'open', label: 'Express, unguarded route', group: 'gatehouse', framework: 'express' },
  { id: 'express-hs256', app: 'gatehouse-express:HS256', route: 'guarded', label: 'Gatehouse on Express, HS256', group: 'gatehouse', framework: 'express', alg: 'HS256' },
  { id: 'express-eddsa', app: 'gatehouse-express:EdDSA', route: 'guarded', label: 'Gatehouse on Express, EdDSA', group: 'gatehouse', framework: 'express', alg: 'EdDSA' },
  { id: 'hono-open', app: 'gatehouse-hono:HS256', route: 'open', label: 'Hono (@hono/node-server), unguarded route', group: 'gatehouse', framework: 'hono' },
  { id: 'hono-hs256', app: 'gatehouse-hono:HS256', route: 'guarded', label: 'Gatehouse on Hono, HS256', group: 'gatehouse', framework: 'hono', alg: 'HS256' },
  { id: 'hono-eddsa', app: 'gatehouse-hono:EdDSA', route: 'guarded', label: 'Gatehouse on Hono, EdDSA', group: 'gatehouse', framework: 'hono', alg: 'EdDSA' },
  { id: 'express-jwt', app: 'express-jwt', route: 'guarded', label: 'Express + express-jwt (HS256 bearer)', group: 'peers', framework: 'express' },
  { id: 'fastify-jwt', app: 'fastify-jwt', route: 'guarded', label: 'Fastify + @fastify/jwt (HS256 bearer)', group: 'peers', framework: 'fastify' },
  { id: 'hono-jwt', app: 'hono-jwt', route: 'guarded', label: 'Hono + hono/jwt (HS256 bearer)', group: 'peers', framework: 'hono' },
  { id: 'better-auth', app: 'better-auth', route: 'guarded', label: 'Better Auth getSession, SQLite, no cookie cache', group: 'peers', framework: 'node' },
  { id: 'better-auth-cache', app: 'better-auth:cookie-cache', route: 'guarded', label: 'Better Auth getSession, SQLite, cookie cache', group: 'peers', framework: 'node' },
].filter((t) => ONLY === null || t.id === 'bare' || ONLY.has(t.id));

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

const wrkVersion = need('wrk', ['-v'], 'install it with `apt-get install -y wrk` (Debian/Ubuntu).').split('\n')[0].trim();
const cores = cpus().length;
// Apps on core 0, wrk on core 1: neither steals the other's CPU. With one core, no pinning.
const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const pin = cores >= 2 && hasTaskset ? (core, cmd, args) => ['taskset', ['-c', String(core), cmd, ...args]] : (_core, cmd, args) => [cmd, args];

async function startApp(app) {
  const [cmd, args] = pin(0, process.execPath, [serversScript, app]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], cwd: fileURLToPath(new URL('.', import.meta.url)) });
  const lines = createInterface({ input: child.stdout });
  const [line] = await Promise.race([once(lines, 'line'), once(child, 'exit').then(([code]) => [JSON.stringify({ unavailable: `exited with ${code} before listening` })])]);
  return { child, ...JSON.parse(line) };
}

/** Refuses to measure an app that does not answer 200 with credentials and (if guarded) 401 without. */
async function preflight(target, app) {
  const route = app.routes[target.route];
  const url = `http://127.0.0.1:${app.port}${route.path}`;
  const ok = await fetch(url, { headers: route.headers });
  const body = await ok.json();
  if (ok.status !== 200 || body?.user?.username !== 'bench') throw new Error(`${target.id}: expected 200 with the user, got ${ok.status} ${JSON.stringify(body)}`);
  if (target.route === 'guarded') {
    const refused = await fetch(url);
    await refused.arrayBuffer();
    if (refused.status !== 401) throw new Error(`${target.id}: expected 401 without credentials, got ${refused.status}`);
  }
}

function toMs(value, unit) {
  return Number(value) * { us: 0.001, ms: 1, s: 1000 }[unit];
}

async function load(target, app, seconds) {
  const route = app.routes[target.route];
  const headerArgs = Object.entries(route.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const [cmd, args] = pin(1, 'wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', ...headerArgs, `http://127.0.0.1:${app.port}${route.path}`]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`${target.id}: wrk exited with ${code}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = /Socket errors: (.*)/.exec(out)?.[1];
  if (non2xx > 0) throw new Error(`${target.id}: ${non2xx} non-2xx responses`);
  if (!Number.isFinite(rps) || p99 === null) throw new Error(`${target.id}: could not read wrk's output:\n${out}`);
  return { rps, p99: toMs(p99[1], p99[2]), socketErrors };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x, digits = 0) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits));

const startedAt = new Date();
const loadBefore = loadavg();
const apps = new Map();
const skipped = new Map();
for (const app of new Set(TARGETS.map((t) => t.app))) {
  const started = await startApp(app);
  if (started.unavailable) {
    skipped.set(app, started.unavailable);
    started.child.kill();
  } else apps.set(app, started);
}
const samples = new Map(TARGETS.map((t) => [t.id, []]));
const measured = TARGETS.filter((t) => apps.has(t.app));
let rates;
try {
  for (const t of measured) await preflight(t, apps.get(t.app));
  for (const t of measured) await load(t, apps.get(t.app), WARMUP_SECONDS);
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round so that no target always runs first or last.
    const order = measured.map((_, i) => measured[(i + round * Math.ceil(measured.length / ROUNDS)) % measured.length]);
    for (const t of order) {
      samples.get(t.id).push(await load(t, apps.get(t.app), SECONDS));
      process.stderr.write('.');
    }
  }
  process.stderr.write('\n');
} finally {
  for (const app of apps.values()) app.child.kill();
}
{
  const [cmd, args] = [process.execPath, [ratesScript, String(RATE_SECONDS)]];
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], cwd: fileURLToPath(new URL('.', import.meta.url)) });
  const lines = createInterface({ input: child.stdout });
  const [line] = await Promise.race([once(lines, 'line'), once(child, 'exit').then(([code]) => [JSON.stringify({ failed: `rates.mjs exited with ${code}` })])]);
  rates = JSON.parse(line);
  if (rates.failed) throw new Error(rates.failed);
}
const loadAfter = loadavg();

const result = new Map();
for (const t of TARGETS) {
  const s = samples.get(t.id);
  result.set(t.id, s.length === 0 ? null : { rps: median(s.map((x) => x.rps)), p99: median(s.map((x) => x.p99)), spread: [Math.min(...s.map((x) => x.rps)), Math.max(...s.map((x) => x.rps))] });
}
const bare = result.get('bare').rps;
const ratio = (id) => (result.get(id) ? result.get(id).rps / bare : undefined);

function row(t) {
  const r = result.get(t.id);
  if (r === null) return `| ${t.label} | not measured | | | ${skipped.get(t.app) ?? 'filtered out (BENCH_ONLY)'} |`;
  const own = t.framework !== 'node' && t.route === 'guarded' && t.group === 'gatehouse' ? ratio(`${t.framework}-open`) : undefined;
  const note = own !== undefined ? `${fmt(r.rps / result.get(`${t.framework}-open`).rps, 2)} of ${t.framework}'s unguarded route` : '';
  return `| ${t.label} | ${fmt(r.rps)} | ${fmt(r.p99, 2)} | **${fmt(r.rps / bare, 2)}** | ${note} |`;
}

/** A package's version, from bench/node_modules or the workspace's node_modules (whichever Node would load). */
const version = (name) => {
  for (const dir of ['./node_modules/', '../node_modules/']) {
    try {
      return JSON.parse(readFileSync(new URL(`${dir}${name}/package.json`, import.meta.url), 'utf8')).version;
    } catch {}
  }
  return '?';
};

function target(label, value, goal, limit) {
  if (value === undefined) return `| ${label} | not measured | ${goal} | |`;
  return `| ${label} | ${fmt(value, 2)} | ${goal} | ${value >= Number(goal.replace(/[^\d.]/g, '')) ? 'met' : `**not met**${limit ? `: ${limit}` : ''}`} |`;
}
const own = (fw, alg) => (result.get(`${fw}-${alg}`) && result.get(`${fw}-open`) ? result.get(`${fw}-${alg}`).rps / result.get(`${fw}-open`).rps : undefined);
const peersMeasured = ['express-jwt', 'fastify-jwt', 'hono-jwt', 'better-auth', 'better-auth-cache'].some((id) => ratio(id) !== undefined) && Number.isFinite(Math.min(...['node-hs256', 'fastify-hs256', 'express-hs256', 'hono-hs256'].map((id) => ratio(id) ?? Infinity)));
const bestPeer = Math.max(...['express-jwt', 'fastify-jwt', 'hono-jwt', 'better-auth', 'better-auth-cache'].map((id) => ratio(id) ?? 0));
const worstGatehouse = Math.min(...['node-hs256', 'fastify-hs256', 'express-hs256', 'hono-hs256'].map((id) => ratio(id) ?? Infinity));
const cpu = cpus()[0]?.model ?? 'unknown CPU';
// Before the run, only this process should be running; anything above half a core means company.
const busy = loadBefore[0] > 0.5;
const command = `${Object.entries({ BENCH_ROUNDS: ROUNDS, BENCH_SECONDS: SECONDS, BENCH_WARMUP_SECONDS: WARMUP_SECONDS, BENCH_CONNECTIONS: CONNECTIONS, BENCH_RATE_SECONDS: RATE_SECONDS, ...(ONLY ? { BENCH_ONLY: [...ONLY].join(',') } : {}) })
  .map(([k, v]) => `${k}=${v}`)
  .join(' ')} npm run bench`;

const tables = `Run ${startedAt.toISOString()} on ${cores} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${wrkVersion.replace(/ \[.*$/, '')}.
Load average before / after: ${loadBefore.map((x) => x.toFixed(2)).join(' ')} / ${loadAfter.map((x) => x.toFixed(2)).join(' ')}.${busy ? `

**The machine was busy (1-minute load average ${loadBefore[0].toFixed(2)} before the run, on ${cores} cores): other processes shared the cores, so these figures are not representative. Run it again on a quiet machine.**` : ''}

Command: \`${command}\` — ${ROUNDS} interleaved round${ROUNDS === 1 ? "" : "s"} × ${SECONDS} s per target after a ${WARMUP_SECONDS} s warm-up, \`wrk -t1 -c${CONNECTIONS} --latency\`${cores >= 2 ? ' pinned with `taskset -c 1`, every app pinned to core 0' : ' (one core: no pinning)'}, medians. Every app is checked first: 200 with the user, and for guarded routes 401 without credentials.

Versions: @gatehouse/server ${version('@gatehouse/server')}, express ${version('express')}, fastify ${version('fastify')}, hono ${version('hono')}, @hono/node-server ${version('@hono/node-server')}, express-jwt ${version('express-jwt')}, @fastify/jwt ${version('@fastify/jwt')}, better-auth ${version('better-auth')}, better-sqlite3 ${version('better-sqlite3')}.

### 1. A GET \`/me\`-style protected route, and the peers

| target | req/s | p99 ms | ratio to bare node:http | |
|---|---:|---:|---:|---|
${TARGETS.filter((t) => t.group === 'gatehouse').map(row).join('\n')}
${TARGETS.filter((t) => t.group === 'peers').map(row).join('\n')}

### 2. Targets (issue 5)

| target | measured | goal | |
|---|---:|---:|---|
${target('Gatehouse on node:http, HS256, ratio to bare', ratio('node-hs256'), '≥ 0.80')}
${target('Gatehouse on node:http, EdDSA, ratio to bare', ratio('node-eddsa'), '≥ 0.75', skipped.get('gatehouse-node:EdDSA'))}
${['fastify', 'express', 'hono'].flatMap((fw) => ['hs256', 'eddsa'].map((alg) => target(`Gatehouse on ${fw}, ${alg === 'hs256' ? 'HS256' : 'EdDSA'}, ratio to ${fw}'s unguarded route`, own(fw, alg), '≥ 0.90', alg === 'eddsa' ? skipped.get(`gatehouse-${fw}:EdDSA`) : undefined))).join('\n')}
${[['express', 'express-jwt'], ['fastify', 'fastify-jwt'], ['hono', 'hono-jwt'], ['node', 'better-auth-cache']].map(([fw, peer]) => {
  const mine = ratio(`${fw}-hs256`);
  const theirs = ratio(peer);
  const label = `Gatehouse on ${fw === 'node' ? 'node:http' : fw}, HS256 vs ${TARGETS.find((t) => t.id === peer)?.label ?? peer} (ratios to bare)`;
  return mine === undefined || theirs === undefined ? `| ${label} | not measured | ahead | |` : `| ${label} | ${fmt(mine, 2)} vs ${fmt(theirs, 2)} | ahead | ${mine > theirs ? 'met' : '**not met**'} |`;
}).join('\n')}
| slowest Gatehouse HS256 row vs fastest peer (ratios to bare) | ${peersMeasured ? `${fmt(worstGatehouse, 2)} vs ${fmt(bestPeer, 2)}` : 'not measured'} | ahead of every peer | ${!peersMeasured ? '' : worstGatehouse > bestPeer ? 'met' : '**not met**'} |

### 3. Refresh rotations and logins (session service, no HTTP)

| what | per second | ratio to bare node:http req/s | notes |
|---|---:|---:|---|
| refresh rotations, SQLite (synchronous=FULL) | ${fmt(rates.sqlite.rotationsPerSecond)} | ${fmt(rates.sqlite.rotationsPerSecond / bare, 3)} | ${rates.chains} sessions rotating in parallel, each a chain; includes signing the new access token |
| refresh rotations, PostgreSQL | ${rates.postgres.rotationsPerSecond === undefined ? 'not measured' : fmt(rates.postgres.rotationsPerSecond)} | ${rates.postgres.rotationsPerSecond === undefined ? '' : fmt(rates.postgres.rotationsPerSecond / bare, 3)} | ${rates.postgres.unavailable ?? `same chains, local server, one pool of ${rates.chains}`} |
| logins (Argon2id verify + new session) | ${fmt(rates.sqlite.loginsPerSecond)} | ${fmt(rates.sqlite.loginsPerSecond / bare, 4)} | ${rates.loginConcurrency} in flight; bounded by Argon2id by design |
| Argon2id verify alone (m=${rates.argon2.memoryCost} KiB, t=${rates.argon2.timeCost}, p=${rates.argon2.parallelism}) | ${fmt(1000 / rates.argon2.verifyMs)} (one at a time) | | ${fmt(rates.argon2.verifyMs, 1)} ms each, @node-rs/argon2 |
`;

const doc = readFileSync(fileURLToPath(new URL('./benchmarks-template.md', import.meta.url)), 'utf8').replace('<!-- RESULTS -->', tables.trim());
writeFileSync(OUT, doc);
console.log(tables);
console.error(`wrote ${OUT}`);
