// `npm run bench`: interleaved rounds against a bare node:http baseline, medians, ratios.
// Loopback only, bounded in time (about rounds × targets × duration seconds).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import autocannon from 'autocannon';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const TARGETS = ['bare', 'gatehouse'];
const serverScript = fileURLToPath(new URL('./guard-server.mjs', import.meta.url));

async function startServer(mode) {
  const child = spawn(process.execPath, [serverScript, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(createInterface({ input: child.stdout }), 'line');
  return { child, ...JSON.parse(line) };
}

async function load(target) {
  const result = await autocannon({
    url: `http://127.0.0.1:${target.port}/me`,
    connections: CONNECTIONS,
    duration: DURATION,
    headers: target.cookie ? { cookie: target.cookie } : {},
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${target.mode}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p99: result.latency.p99 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const servers = {};
for (const mode of TARGETS) servers[mode] = { mode, ...(await startServer(mode)) };
const samples = Object.fromEntries(TARGETS.map((m) => [m, []]));
try {
  await load(servers.bare); // warm-up, discarded
  await load(servers.gatehouse);
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of round % 2 === 0 ? TARGETS : [...TARGETS].reverse()) samples[mode].push(await load(servers[mode]));
  }
} finally {
  for (const s of Object.values(servers)) s.child.kill();
}

const bare = median(samples.bare.map((s) => s.rps));
console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; ${ROUNDS} interleaved rounds × ${DURATION} s, ${CONNECTIONS} connections, medians`);
console.log('| target | req/s | p99 ms | ratio to bare node:http |');
console.log('|---|---:|---:|---:|');
for (const mode of TARGETS) {
  const rps = median(samples[mode].map((s) => s.rps));
  const p99 = median(samples[mode].map((s) => s.p99));
  console.log(`| ${mode === 'bare' ? 'bare node:http' : 'Gatehouse guard on node:http, HS256 cookie'} | ${Math.round(rps)} | ${p99} | ${(rps / bare).toFixed(2)} |`);
}
