// How one sample is taken: a fixed wrk run against a server pinned to its own core, with the
// server's CPU time read from /proc before and after. CPU time per completed request is what
// the guard costs, whatever else the machine is doing; req/s is only meaningful when the
// server had its core to itself (see `busy`).
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';

const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Servers on core 0, wrk on core 1, so that neither steals the other's CPU. With one core (or no taskset): no pinning. */
export const pinned = cpus().length >= 2 && hasTaskset;

export function pin(core, cmd, args) {
  return pinned ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args];
}

/**
 * CPU time of every thread of `pid` (main thread, V8's GC helpers, the libuv pool), in
 * nanoseconds, and the time its threads spent runnable but waiting for a core (someone else
 * had it). Linux schedstat; null elsewhere.
 */
export function cpuOf(pid) {
  let run = 0;
  let wait = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const [onCpu, waiting] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
        run += Number(onCpu);
        wait += Number(waiting);
      } catch {
        // A thread that ended between the listing and the read: its time is lost, and tiny.
      }
    }
  } catch {
    return null;
  }
  return { run, wait };
}

function toMs(value, unit) {
  return Number(value) * { us: 0.001, ms: 1, s: 1000 }[unit];
}

/**
 * A wrk script that sends every request with the next token of `tokens` (a cycle longer
 * than the verified-token cache, so that every request is a miss).
 */
export function tokenCycleScript(path, cookieName, tokensFile) {
  writeFileSync(
    path,
    `local tokens = {}
for line in io.lines(${JSON.stringify(tokensFile)}) do tokens[#tokens + 1] = line end
local i = 0
request = function()
  i = i + 1
  if i > #tokens then i = 1 end
  return wrk.format(nil, nil, { ["Cookie"] = ${JSON.stringify(`${cookieName}=`)} .. tokens[i] })
end
`,
  );
  return path;
}

/**
 * One wrk run of `seconds` against `route` of the app listening on `port` (process `pid`).
 * Returns req/s, p99, completed requests, and the server's CPU µs per request with how much
 * of its core it had (`share`: CPU time / wall time) and how long it waited for the core.
 */
export async function sample({ id, port, pid, route, seconds, connections }) {
  const headerArgs = Object.entries(route.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const scriptArgs = route.script ? ['-s', route.script] : [];
  const [cmd, args] = pin(1, 'wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...scriptArgs, ...headerArgs, `http://127.0.0.1:${port}${route.path}`]);
  const before = cpuOf(pid);
  const startedAt = process.hrtime.bigint();
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const [code] = await once(child, 'exit');
  const after = cpuOf(pid);
  const wallNs = Number(process.hrtime.bigint() - startedAt);
  if (code !== 0) throw new Error(`${id}: wrk exited with ${code}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  if (non2xx > 0) throw new Error(`${id}: ${non2xx} non-2xx responses`);
  if (!Number.isFinite(rps) || !Number.isFinite(requests) || requests === 0 || p99 === null) throw new Error(`${id}: could not read wrk's output:\n${out}`);
  const cpu = before && after ? { cpuUsPerRequest: (after.run - before.run) / 1000 / requests, share: (after.run - before.run) / wallNs, waited: (after.wait - before.wait) / wallNs } : {};
  return { rps, p99: toMs(p99[1], p99[2]), requests, ...cpu };
}

export const median = (xs) => {
  const sorted = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export const fmt = (x, digits = 0) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits));

/**
 * Samples every target between two samples of `bare` (the one after a target is the one before
 * the next), `rounds` times, the targets' order rotated each round. `take(target, round)` returns
 * one sample(). Returns id → samples; each target's sample has `paired`: the mean CPU µs per
 * request of its two bare neighbours over its own.
 */
export async function pairedSamples(bare, targets, rounds, take) {
  const samples = new Map([bare, ...targets].map((t) => [t.id, []]));
  for (let round = 0; round < rounds; round++) {
    let before = await take(bare, round);
    samples.get(bare.id).push(before);
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(i + round) % targets.length];
      const own = await take(target, round);
      const after = await take(bare, round);
      samples.get(bare.id).push(after);
      own.paired = (before.cpuUsPerRequest + after.cpuUsPerRequest) / 2 / own.cpuUsPerRequest;
      own.round = round;
      samples.get(target.id).push(own);
      before = after;
    }
  }
  return samples;
}

/** Medians of one target's samples; `paired` is 1 for the baseline itself, `range` the paired ratios' spread. */
export function summarize(samples, isBaseline = false) {
  const paired = samples.map((x) => x.paired).filter((x) => x !== undefined);
  return {
    rps: median(samples.map((x) => x.rps)),
    p99: median(samples.map((x) => x.p99)),
    cpuUs: median(samples.map((x) => x.cpuUsPerRequest)),
    share: median(samples.map((x) => x.share)),
    paired: isBaseline ? 1 : median(paired),
    range: paired.length > 1 ? [Math.min(...paired), Math.max(...paired)] : undefined,
  };
}

/** The knobs every section reads the same way (BENCH_QUICK=1: one short round, to iterate). */
export function knobs() {
  const quick = process.env.BENCH_QUICK === '1';
  const knob = (name, normal, short) => Number(process.env[name] ?? (quick ? short : normal));
  return { quick, rounds: knob('BENCH_ROUNDS', 3, 1), seconds: knob('BENCH_SECONDS', 4, 2), connections: knob('BENCH_CONNECTIONS', 32, 32) };
}

/**
 * How a section ends: with BENCH_JSON=1 (bench/run.mjs), one JSON line for BENCHMARKS.md;
 * otherwise its table in Markdown (and in BENCH_OUT when set).
 */
export async function emitSection(section) {
  if (process.env.BENCH_JSON === '1') {
    process.stdout.write(`${JSON.stringify(section)}\n`);
    return;
  }
  const { sectionTable } = await import('./report.mjs');
  const text = `${section.setup}\n\n${sectionTable(section)}`;
  console.log(text);
  if (process.env.BENCH_OUT) (await import('node:fs')).writeFileSync(process.env.BENCH_OUT, `${text}\n`);
}
