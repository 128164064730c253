// `npm run bench`: every app in its own process pinned to one core, wrk pinned to the other.
// Each target's sample is taken between two samples of bare node:http, and its figure is the
// server's CPU time per request as a ratio to those neighbours' (the paired ratio): unlike
// req/s, that holds when other processes share the machine. Also: what one token check costs
// (bench/token-costs.mjs), the verified-token cache's memory, and rotations and logins
// (bench/rates.mjs): the "guard" section. Then the sections that have a script of their own, each
// run in its own process with BENCH_JSON=1 and measured the same way: the gateway
// (bench/gateway.mjs), RFC 9421-signed requests (bench/signatures.mjs) and DPoP-bound requests
// (bench/dpop.mjs). Writes BENCHMARKS.md (or BENCH_OUT) and prints the tables.
//
// BENCH_QUICK=1: one short round, to iterate; never a figure to publish.
// BENCH_SECTIONS=guard,gateway,signatures,dpop (the default: all) to run some sections only.
// Needs wrk and nginx (Debian: apt-get install -y wrk nginx-light); pins cores with taskset
// (util-linux) when it is there.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { fmt, median, pin, pinned, sample, tokenCycleScript } from './measure.mjs';
import { goalsTable, httpTable, ratesTable, sectionTable, tokenTable } from './report.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
const knob = (name, normal, quick) => Number(process.env[name] ?? (QUICK ? quick : normal));
const ROUNDS = knob('BENCH_ROUNDS', 3, 1);
const SECONDS = knob('BENCH_SECONDS', 4, 2);
const WARMUP_SECONDS = knob('BENCH_WARMUP_SECONDS', 2, 1);
const CONNECTIONS = knob('BENCH_CONNECTIONS', 32, 32);
const RATE_SECONDS = knob('BENCH_RATE_SECONDS', SECONDS, 1);
const SECTIONS = new Set((process.env.BENCH_SECTIONS ?? 'guard,gateway,signatures,dpop').split(','));
/** The sections with a script of their own: name → script and the heading in BENCHMARKS.md. */
const OWN_SCRIPT_SECTIONS = [
  { name: 'gateway', script: './gateway.mjs' },
  { name: 'signatures', script: './signatures.mjs' },
  { name: 'dpop', script: './dpop.mjs' },
].filter((s) => SECTIONS.has(s.name));
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
const OUT = process.env.BENCH_OUT ?? fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
const here = (file) => fileURLToPath(new URL(file, import.meta.url));

/** What is measured: the app process, the route in it, the row's label, its group and its framework. */
const BARE = { id: 'bare', app: 'bare', route: 'open', label: 'bare node:http (baseline)', group: 'floor', framework: 'node' };
const TARGETS = [
  { id: 'floor', app: 'floor', route: 'guarded', label: 'a synchronous Map-cache guard (the floor)', group: 'floor', framework: 'node' },
  { id: 'floor-imported', app: 'floor:imported', route: 'guarded', label: 'the floor after importing @gatehouse/server', group: 'floor', framework: 'node' },
  { id: 'floor-running', app: 'floor:running', route: 'guarded', label: 'the floor beside a running Gatehouse it never asks', group: 'floor', framework: 'node' },
  { id: 'node-hs256', app: 'gatehouse-node:HS256', route: 'guarded', label: 'Gatehouse on node:http, HS256, cache hit', group: 'gatehouse', framework: 'node' },
  { id: 'node-eddsa', app: 'gatehouse-node:EdDSA', route: 'guarded', label: 'Gatehouse on node:http, EdDSA, cache hit', group: 'gatehouse', framework: 'node' },
  { id: 'node-hs256-miss', app: 'gatehouse-node:HS256:miss', route: 'guarded', label: 'Gatehouse on node:http, HS256, every token new', group: 'gatehouse', framework: 'node' },
  { id: 'node-eddsa-miss', app: 'gatehouse-node:EdDSA:miss', route: 'guarded', label: 'Gatehouse on node:http, EdDSA, every token new', group: 'gatehouse', framework: 'node' },
  { id: 'fastify-open', app: 'gatehouse-fastify:HS256', route: 'open', label: 'Fastify, unguarded route', group: 'gatehouse', framework: 'fastify' },
  { id: 'fastify-hs256', app: 'gatehouse-fastify:HS256', route: 'guarded', label: 'Gatehouse on Fastify, HS256', group: 'gatehouse', framework: 'fastify' },
  { id: 'fastify-eddsa', app: 'gatehouse-fastify:EdDSA', route: 'guarded', label: 'Gatehouse on Fastify, EdDSA', group: 'gatehouse', framework: 'fastify' },
  { id: 'express-open', app: 'gatehouse-express:HS256', route: 'open', label: 'Express, unguarded route', group: 'gatehouse', framework: 'express' },
  { id: 'express-hs256', app: 'gatehouse-express:HS256', route: 'guarded', label: 'Gatehouse on Express, HS256', group: 'gatehouse', framework: 'express' },
  { id: 'express-eddsa', app: 'gatehouse-express:EdDSA', route: 'guarded', label: 'Gatehouse on Express, EdDSA', group: 'gatehouse', framework: 'express' },
  { id: 'hono-open', app: 'gatehouse-hono:HS256', route: 'open', label: 'Hono (@hono/node-server), unguarded route', group: 'gatehouse', framework: 'hono' },
  { id: 'hono-hs256', app: 'gatehouse-hono:HS256', route: 'guarded', label: 'Gatehouse on Hono, HS256', group: 'gatehouse', framework: 'hono' },
  { id: 'hono-eddsa', app: 'gatehouse-hono:EdDSA', route: 'guarded', label: 'Gatehouse on Hono, EdDSA', group: 'gatehouse', framework: 'hono' },
  { id: 'express-jwt', app: 'express-jwt', route: 'guarded', label: 'Express + express-jwt (HS256 bearer)', group: 'peers', framework: 'express' },
  { id: 'fastify-jwt', app: 'fastify-jwt', route: 'guarded', label: 'Fastify + @fastify/jwt (HS256 bearer)', group: 'peers', framework: 'fastify' },
  { id: 'hono-jwt', app: 'hono-jwt', route: 'guarded', label: 'Hono + hono/jwt (HS256 bearer)', group: 'peers', framework: 'hono' },
  { id: 'better-auth', app: 'better-auth', route: 'guarded', label: 'Better Auth getSession, SQLite, no cookie cache', group: 'peers', framework: 'node' },
  { id: 'better-auth-cache', app: 'better-auth:cookie-cache', route: 'guarded', label: 'Better Auth getSession, SQLite, cookie cache', group: 'peers', framework: 'node' },
].filter((t) => SECTIONS.has('guard') && (ONLY === null || ONLY.has(t.id)));

const wrkVersion = (() => {
  try {
    return execFileSync('wrk', ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].trim();
  } catch (error) {
    if (error.code === 'ENOENT') {
      console.error('wrk is required: install it with `apt-get install -y wrk` (Debian/Ubuntu).');
      process.exit(1);
    }
    return `${error.stdout ?? ''}${error.stderr ?? ''}`.split('\n')[0].trim();
  }
})();

/** Runs a helper script to its one JSON line of output; `pinCore` pins it like the servers. */
async function jsonLineOf(script, args, nodeFlags = []) {
  const [cmd, cmdArgs] = pin(0, process.execPath, [...nodeFlags, here(script), ...args]);
  const child = spawn(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'inherit'], cwd: here('.') });
  const lines = createInterface({ input: child.stdout });
  const [line] = await Promise.race([once(lines, 'line'), once(child, 'exit').then(([code]) => [JSON.stringify({ failed: `${script} exited with ${code}` })])]);
  return { child, result: JSON.parse(line) };
}

async function startApp(app) {
  const { child, result } = await jsonLineOf('./servers.mjs', [app]);
  return { child, ...result };
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

/** Thrown to leave the guard section's measuring when BENCH_SECTIONS leaves it out. */
class Skip extends Error {}

/**
 * Runs one section's script in its own process with BENCH_JSON=1 (the knobs pass through the
 * environment) and reads its last line; a section that fails is reported, not fatal.
 */
async function runSection({ name, script }) {
  const child = spawn(process.execPath, [here(script)], { stdio: ['ignore', 'pipe', 'inherit'], cwd: here('.'), env: { ...process.env, BENCH_JSON: '1' } });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const [code] = await once(child, 'exit');
  const last = out.trim().split('\n').at(-1);
  if (code === 0 && last) return JSON.parse(last);
  return { section: name, failed: `bench/${script.slice(2)} exited with ${code} (its error is in the bench's output)` };
}

const scratch = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
const startedAt = new Date();
const startedNs = process.hrtime.bigint();
const loadBefore = loadavg();
const apps = new Map();
const skipped = new Map();
for (const app of new Set((SECTIONS.has('guard') ? [BARE, ...TARGETS] : []).map((t) => t.app))) {
  const started = await startApp(app);
  if (started.unavailable || started.failed) {
    skipped.set(app, started.unavailable ?? started.failed);
    started.child.kill();
    continue;
  }
  for (const route of Object.values(started.routes)) {
    if (route.tokensFile) route.script = tokenCycleScript(join(scratch, `${app.replace(/\W/g, '-')}.lua`), route.cookieName, route.tokensFile);
  }
  apps.set(app, started);
}
if (SECTIONS.has('guard') && !apps.has('bare')) throw new Error(`the baseline did not start: ${skipped.get('bare')}`);

const measured = TARGETS.filter((t) => apps.has(t.app));
/** id → one entry per round: { rps, p99, cpuUsPerRequest, share, waited, paired }. */
const samples = new Map(SECTIONS.has('guard') ? [BARE, ...measured].map((t) => [t.id, []]) : []);
const take = (t, seconds = SECONDS) => {
  const app = apps.get(t.app);
  return sample({ id: t.id, port: app.port, pid: app.child.pid, route: app.routes[t.route], seconds, connections: CONNECTIONS });
};
let tokenCosts = {};
let rates;
try {
  if (!SECTIONS.has('guard')) throw new Skip();
  for (const t of [BARE, ...measured]) await preflight(t, apps.get(t.app));
  for (const t of [BARE, ...measured]) await take(t, WARMUP_SECONDS);
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round so that no target always runs first or last; bare before and after each.
    const order = measured.map((_, i) => measured[(i + round * Math.ceil(measured.length / ROUNDS)) % measured.length]);
    let before = await take(BARE);
    samples.get('bare').push(before);
    for (const t of order) {
      const s = await take(t);
      const after = await take(BARE);
      samples.get('bare').push(after);
      s.paired = (before.cpuUsPerRequest + after.cpuUsPerRequest) / 2 / s.cpuUsPerRequest;
      s.round = round;
      samples.get(t.id).push(s);
      before = after;
      process.stderr.write('.');
    }
  }
  process.stderr.write('\n');
} catch (error) {
  if (!(error instanceof Skip)) throw error;
} finally {
  for (const app of apps.values()) app.child.kill();
}
if (SECTIONS.has('guard')) {
  ({ result: tokenCosts } = await jsonLineOf('./token-costs.mjs', [String(QUICK ? 500 : 2000)], ['--expose-gc']));
  if (tokenCosts.failed) throw new Error(tokenCosts.failed);
  ({ result: rates } = await jsonLineOf('./rates.mjs', [String(RATE_SECONDS)]));
  if (rates.failed) throw new Error(rates.failed);
}
rmSync(scratch, { recursive: true, force: true });
/** name → what its script printed: { title, setup, baseline, rows } or { failed }. */
const sections = new Map();
for (const s of OWN_SCRIPT_SECTIONS) {
  process.stderr.write(`section ${s.name}…\n`);
  sections.set(s.name, await runSection(s));
}
const minutes = Number(process.hrtime.bigint() - startedNs) / 6e10;
const loadAfter = loadavg();

/** Medians per target; `paired` is the median of the per-sample paired ratios, `range` their spread. */
const result = new Map();
for (const [id, s] of samples) {
  if (s.length === 0) continue;
  const paired = s.map((x) => x.paired).filter((x) => x !== undefined);
  result.set(id, {
    rps: median(s.map((x) => x.rps)),
    p99: median(s.map((x) => x.p99)),
    cpuUs: median(s.map((x) => x.cpuUsPerRequest)),
    share: median(s.map((x) => x.share)),
    paired: id === 'bare' ? 1 : median(paired),
    range: paired.length > 1 ? [Math.min(...paired), Math.max(...paired)] : undefined,
    rounds: s,
  });
}
/** Per round, the ratio of one target's paired ratio to another's (e.g. a guarded route to its framework's open route). */
function relative(id, baseId) {
  const a = result.get(id);
  const b = result.get(baseId);
  if (!a || !b) return undefined;
  return median(a.rounds.map((x) => x.paired / b.rounds.find((y) => y.round === x.round)?.paired));
}
/** Per round, the extra CPU µs of `id` over `baseId` (a miss over a hit). */
function extraUs(id, baseId) {
  const a = result.get(id);
  const b = result.get(baseId);
  if (!a || !b) return undefined;
  return median(a.rounds.map((x) => x.cpuUsPerRequest - b.rounds.find((y) => y.round === x.round)?.cpuUsPerRequest));
}

const allShares = [...[...samples.values()].flat().map((x) => x.share), ...[...sections.values()].flatMap((s) => (s.rows ?? []).map((r) => r.share))];
const coreShare = median(allShares);
const busy = coreShare !== undefined ? coreShare < 0.9 : loadBefore[0] > 0.5;
const version = (name) => {
  for (const dir of ['./node_modules/', '../node_modules/']) {
    try {
      return JSON.parse(readFileSync(new URL(`${dir}${name}/package.json`, import.meta.url), 'utf8')).version;
    } catch {}
  }
  return '?';
};
const knobs = { ...(process.env.BENCH_SECTIONS ? { BENCH_SECTIONS: [...SECTIONS].join(',') } : {}), BENCH_ROUNDS: ROUNDS, BENCH_SECONDS: SECONDS, BENCH_WARMUP_SECONDS: WARMUP_SECONDS, BENCH_CONNECTIONS: CONNECTIONS, BENCH_RATE_SECONDS: RATE_SECONDS, ...(ONLY ? { BENCH_ONLY: [...ONLY].join(',') } : {}) };
const command = `${QUICK ? 'BENCH_QUICK=1 ' : ''}${Object.entries(knobs).map(([k, v]) => `${k}=${v}`).join(' ')} npm run bench`;
const context = { targets: [BARE, ...TARGETS], result, skipped, relative, extraUs, tokenCosts, rates, busy, sections };

const guard = SECTIONS.has('guard');
const numbered = [
  ...(guard
    ? [
        [2, 'A GET `/me`-style protected route, and the peers', httpTable(context)],
        [3, 'One token check, and the verified-token cache', tokenTable(context)],
        [4, 'Refresh rotations and logins (session service, no HTTP)', ratesTable(context)],
      ]
    : []),
  ...OWN_SCRIPT_SECTIONS.map(({ name }) => {
    const s = sections.get(name);
    const title = s.title ?? { gateway: 'A guarded, proxied GET through the gateway (issue 10)', signatures: 'An RFC 9421-signed request (issue 11)', dpop: 'A DPoP-bound request (issue 11)' }[name];
    // Fixed numbers, whichever sections ran: the docs cite them.
    return [{ gateway: 5, signatures: 6, dpop: 7 }[name], title, s.failed ? `Not measured: ${s.failed}.` : `${s.setup}\n\n${sectionTable(s)}`];
  }),
];

const tables = `Command: \`${command}\` — took ${fmt(minutes, 1)} minutes.

Run ${startedAt.toISOString()} on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${wrkVersion.replace(/ \[.*$/, '')}.
Load average before / after: ${loadBefore.map((x) => x.toFixed(2)).join(' ')} / ${loadAfter.map((x) => x.toFixed(2)).join(' ')}. The servers had ${fmt((coreShare ?? NaN) * 100)} % of their core during the samples (median).${QUICK ? '\n\n**Quick mode (BENCH_QUICK=1): one short round, for iterating. Not a result.**' : ''}${busy ? `

**The machine was busy: the servers had only ${fmt((coreShare ?? NaN) * 100)} % of their core (other processes shared it), so req/s and p99 here say little. The CPU time per request and the paired ratios still hold (each sample is compared with baseline samples taken just before and after it).**` : ''}

Sections: ${[...SECTIONS].join(', ')}. ${ROUNDS} round${ROUNDS === 1 ? '' : 's'} × ${SECONDS} s per target${guard ? ` after a ${WARMUP_SECONDS} s warm-up` : ''}, each section's baseline sampled before and after every target, \`wrk -t1 -c${CONNECTIONS} --latency\`${pinned ? ' pinned with `taskset -c 1`, every server pinned to core 0' : ' (no pinning: one core or no taskset)'}, medians.${guard ? ' Every app of section 2 is checked first: 200 with the user, and for guarded routes 401 without credentials.' : ''}

Versions: @gatehouse/server ${version('@gatehouse/server')}, fast-jwt ${version('fast-jwt')}, jose ${version('jose')}, undici ${version('undici')}, dpop ${version('dpop')}, express ${version('express')}, fastify ${version('fastify')}, hono ${version('hono')}, @hono/node-server ${version('@hono/node-server')}, express-jwt ${version('express-jwt')}, @fastify/jwt ${version('@fastify/jwt')}, better-auth ${version('better-auth')}, better-sqlite3 ${version('better-sqlite3')}.

### 1. Goals (issues 12, 10 and 11)

${goalsTable(context)}

${numbered.map(([number, title, body]) => `### ${number}. ${title}\n\n${body}`).join('\n\n')}
`;

const doc = readFileSync(here('./benchmarks-template.md'), 'utf8').replace('<!-- RESULTS -->', tables.trim());
writeFileSync(OUT, doc);
console.log(tables);
console.error(`wrote ${OUT} in ${fmt(minutes, 1)} minutes`);
