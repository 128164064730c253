// `node bench/gateway.mjs` (after `npm run build`): a guarded, proxied GET through Gatehouse's
// gateway next to a bare undici pass-through proxy and nginx's proxy_pass, in the same run,
// each in front of the same small upstream. The figure is the proxy process's CPU time per
// request (Linux schedstat, every thread), and each target's ratio to the bare undici proxy
// sampled just before and after it (the paired ratio, as bench/run.mjs does): the share of
// the bare proxy's throughput the target would reach on a core of its own. Target for the
// gateway: >= 0.8.
//
// Proxies run on core 0; wrk and the upstream share core 1. Alone it prints a Markdown table
// (BENCH_OUT=file also writes it there); bench/run.mjs runs it with BENCH_JSON=1 for section 5
// of BENCHMARKS.md. BENCH_QUICK=1: one short round, to iterate.
// Needs wrk and /usr/sbin/nginx (Debian: apt-get install -y wrk nginx-light).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { emitSection, knobs, pairedSamples, pin, pinned, sample, summarize } from './measure.mjs';

const { rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS } = knobs();
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
  const samples = await pairedSamples(bare, targets, ROUNDS, measure);
  const directSamples = [];
  for (let round = 0; round < ROUNDS; round++) directSamples.push(await measure(direct));
  await emitSection({
    section: 'gateway',
    title: 'A guarded, proxied GET through the gateway (issue 10)',
    setup: `GET \`/api/orders\` through a proxy to a small JSON upstream; ${ROUNDS} round(s) × ${SECONDS} s per target, the bare undici proxy sampled before and after every target, \`wrk -t1 -c${CONNECTIONS} --latency\`, ${pinned ? 'every proxy pinned to core 0, wrk and the upstream to core 1' : 'no core pinning'}. The figure is the proxy process's CPU time per request (all its threads); the upstream's own work is not in it.`,
    baseline: 'bare undici proxy',
    rows: [
      { id: bare.id, label: bare.label, baseline: true, ...summarize(samples.get(bare.id), true) },
      ...targets.map((t) => ({ id: t.id, label: t.label, ...summarize(samples.get(t.id)) })),
      { id: direct.id, label: direct.label, reference: true, ...summarize(directSamples, true), paired: undefined, note: 'CPU of the upstream, which also serves every proxied request' },
    ],
  });
} finally {
  for (const child of children) child.kill('SIGTERM');
}
