// `node bench/gateway.mjs` (after `npm run build`): a guarded, proxied GET through Gatehouse's
// gateway next to a bare undici pass-through proxy and nginx's proxy_pass, in the same run,
// each in front of the same small upstream. The figure is the proxy process's CPU time per
// request (Linux schedstat, every thread), and each target's ratio to the bare undici proxy
// sampled just before and after it (the paired ratio, as bench/run.mjs does): the share of
// the bare proxy's throughput the target would reach on a core of its own. Target for the
// gateway: >= 0.8.
//
// Proxies run on core 0; wrk and the upstream share core 1. Prints a Markdown table; with
// BENCH_OUT=file also writes it there. BENCH_QUICK=1: one short round, to iterate.
// Needs wrk and /usr/sbin/nginx (Debian: apt-get install -y wrk nginx-light).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { fmt, median, pin, pinned, sample } from './measure.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 2 : 4));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const children = [];

async function start(core, cmd, args) {
  const [c, a] = pin(core, cmd, args);
  const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return child;
}

/** Starts one of bench/gateway-servers.mjs's processes and reads its announcement. */
async function node(core, kind, ...args) {
  const child = await start(core, process.execPath, [here('./gateway-servers.mjs'), kind, ...args]);
  const [line] = await once(createInterface({ input: child.stdout }), 'line');
  return { pid: child.pid, ...JSON.parse(line) };
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** nginx (one process: master_process off) proxying to the upstream with kept-alive connections. */
async function nginx(upstreamPort) {
  const prefix = mkdtempSync(join(tmpdir(), 'gatehouse-bench-nginx-'));
  const port = await freePort();
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `worker_processes 1; master_process off; daemon off; pid ${prefix}/nginx.pid; error_log ${prefix}/error.log error;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/cb; proxy_temp_path ${prefix}/p; fastcgi_temp_path ${prefix}/f; uwsgi_temp_path ${prefix}/u; scgi_temp_path ${prefix}/s;
  upstream api { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location /api/ { proxy_pass http://api; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`,
  );
  const child = await start(0, '/usr/sbin/nginx', ['-p', `${prefix}/`, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')]);
  child.once('exit', () => rmSync(prefix, { recursive: true, force: true }));
  for (let i = 0; i < 200; i++) {
    if (await fetch(`http://127.0.0.1:${port}/api/orders`).then((r) => r.ok, () => false)) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { pid: child.pid, port, path: '/api/orders', headers: {} };
}

const measure = (target) => sample({ id: target.id, port: target.port, pid: target.pid, route: { path: target.path, headers: target.headers }, seconds: SECONDS, connections: CONNECTIONS });

try {
  const upstream = await node(1, 'upstream');
  const bare = { id: 'undici', label: 'bare undici pass-through proxy (baseline)', ...(await node(0, 'undici-proxy', String(upstream.port))) };
  const targets = [
    { id: 'gatehouse', label: 'Gatehouse gateway: guarded GET (EdDSA cookie), identity token, header rules', ...(await node(0, 'gatehouse', String(upstream.port))) },
    { id: 'nginx', label: 'nginx proxy_pass (keepalive upstream)', ...(await nginx(upstream.port)) },
  ];
  const direct = { id: 'direct', label: 'the upstream alone (no proxy), for scale', ...upstream };
  // Warm up every process (JIT, connection pools, the identity cache).
  for (const t of [bare, ...targets]) await sample({ id: t.id, port: t.port, pid: t.pid, route: { path: t.path, headers: t.headers }, seconds: 1, connections: CONNECTIONS });
  const results = new Map([bare, ...targets, direct].map((t) => [t.id, { target: t, samples: [], ratios: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    results.get('direct').samples.push(await measure(direct));
    for (const target of targets) {
      const before = await measure(bare);
      const own = await measure(target);
      const after = await measure(bare);
      results.get('undici').samples.push(before, after);
      results.get(target.id).samples.push(own);
      results.get(target.id).ratios.push((before.cpuUsPerRequest + after.cpuUsPerRequest) / 2 / own.cpuUsPerRequest);
    }
  }
  const rows = [...results.values()].map(({ target, samples, ratios }) => {
    const cpu = median(samples.map((s) => s.cpuUsPerRequest));
    const rps = median(samples.map((s) => s.rps));
    const p99 = median(samples.map((s) => s.p99));
    const ratio = target.id === 'undici' ? 1 : median(ratios);
    return `| ${target.label} | ${fmt(cpu, 1)} | ${target.id === 'direct' ? '–' : fmt(ratio, 2)} | ${fmt(rps)} | ${fmt(p99, 2)} |`;
  });
  const table = [
    `Gateway: GET through a proxy to a small JSON upstream; ${ROUNDS} round(s) of ${SECONDS} s, ${CONNECTIONS} connections, ${pinned ? 'proxy pinned to core 0, wrk and upstream to core 1' : 'no core pinning'}.`,
    '',
    '| target | proxy CPU µs / request | ratio to bare undici (paired) | req/s | p99 ms |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  console.log(table);
  if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, `${table}\n`);
} finally {
  for (const child of children) child.kill('SIGTERM');
}
