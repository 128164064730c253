// The tables of BENCHMARKS.md, from what bench/run.mjs measured.
import { fmt } from './measure.mjs';

const verdict = (value, ok) => (value === undefined ? '' : ok ? 'met' : '**not met**');

/** A paired-ratio goal: `value` must reach `goal` (or stay under it with `atMost`). */
function goalRow(label, value, goal, { atMost = false, digits = 2, unit = '', why = '' } = {}) {
  if (value === undefined) return `| ${label} | not measured | ${atMost ? '≤' : '≥'} ${goal}${unit} | ${why} |`;
  const ok = atMost ? value <= goal : value >= goal;
  return `| ${label} | ${fmt(value, digits)}${unit} | ${atMost ? '≤' : '≥'} ${goal}${unit} | ${verdict(value, ok)}${!ok && why ? `: ${why}` : ''} |`;
}

export function goalsTable({ result, relative, tokenCosts, rates, skipped, sections }) {
  const paired = (id) => result.get(id)?.paired;
  if (!result.has('bare')) return `| goal | measured | target | |\n|---|---:|---:|---|\n${sectionGoalRows(sections).join('\n')}`;
  const rows = [
    goalRow('Gatehouse on node:http, HS256, cache hit: paired ratio to bare node:http', paired('node-hs256'), 0.85, { why: 'see "What limits the figures"' }),
    goalRow('Gatehouse on node:http, EdDSA, cache hit: paired ratio to bare node:http', paired('node-eddsa'), 0.85, { why: skipped.get('gatehouse-node:EdDSA') ?? 'see "What limits the figures"' }),
  ];
  for (const fw of ['fastify', 'hono', 'express']) {
    for (const alg of ['hs256', 'eddsa']) {
      const name = { fastify: 'Fastify', hono: 'Hono', express: 'Express' }[fw];
      rows.push(goalRow(`Gatehouse on ${name}, ${alg === 'hs256' ? 'HS256' : 'EdDSA'}: ratio to ${name}'s own unguarded route`, relative(`${fw}-${alg}`, `${fw}-open`), 0.9));
    }
  }
  rows.push(goalRow('the floor after importing @gatehouse/server, as a ratio to the floor (the import costs nothing per request; noise ±0.02)', relative('floor-imported', 'floor'), 0.98));
  for (const alg of ['HS256', 'EdDSA']) {
    const c = tokenCosts[alg];
    rows.push(goalRow(`a token miss (first check of an unseen ${alg} token), as a multiple of the bare node:crypto signature check`, c ? c.miss / c.bare : undefined, 2, { atMost: true, unit: '×', why: c && c.fastJwt / c.bare > 1.5 ? `fast-jwt alone is ${fmt(c.fastJwt / c.bare, 2)}× the bare check (it decodes and parses the header and payload around the HMAC); Gatehouse's own checks add ${fmt(c.miss - c.fastJwt, 1)} µs` : `Gatehouse's own checks add ${fmt(c ? c.miss - c.fastJwt : NaN, 1)} µs to fast-jwt's ${fmt(c?.fastJwt, 1)} µs` }));
  }
  for (const r of rateRows(rates)) if (r.goal !== undefined && r.ratio !== undefined) rows.push(goalRow(`${r.what}: ratio to ${r.bareLabel ?? 'its bare operation'}`, r.ratio, r.goal, { why: r.limit ?? '' }));
  const cache = tokenCosts.cache;
  if (cache) {
    rows.push(`| verified-token cache: entries after ${cache.inserted} distinct tokens | ${cache.entries} (≈ ${fmt(cache.bytesPerEntry / 1024, 1)} KB each, ${fmt(cache.totalMB, 1)} MB in all) | bounded, ≤ ${cache.cap} | ${verdict(cache.entries, cache.entries <= cache.cap)} |`);
  }
  rows.push(...sectionGoalRows(sections));
  return `| goal | measured | target | |\n|---|---:|---:|---|\n${rows.join('\n')}`;
}

export function httpTable({ targets, result, skipped, relative, extraUs }) {
  const row = (t) => {
    const r = result.get(t.id);
    if (!r) return `| ${t.label} | not measured | | | | ${skipped.get(t.app) ?? 'filtered out (BENCH_ONLY)'} |`;
    const notes = [];
    if (t.group === 'gatehouse' && t.framework !== 'node' && !t.id.endsWith('-open')) notes.push(`${fmt(relative(t.id, `${t.framework}-open`), 2)} of ${t.framework}'s unguarded route`);
    if (t.id.endsWith('-miss')) notes.push(`+${fmt(extraUs(t.id, t.id.replace('-miss', '')), 1)} µs per request over a cache hit`);
    if (t.id.startsWith('floor-')) notes.push(`${fmt(relative(t.id, 'floor'), 2)} of the floor`);
    const range = r.range ? ` (${fmt(r.range[0], 2)}–${fmt(r.range[1], 2)})` : '';
    return `| ${t.label} | ${fmt(r.rps)} | ${fmt(r.p99, 2)} | ${fmt(r.cpuUs, 1)} | **${fmt(r.paired, 2)}**${range} | ${notes.join('; ')} |`;
  };
  return `| target | req/s | p99 ms | server CPU µs per request | paired ratio to bare node:http | |\n|---|---:|---:|---:|---:|---|\n${targets.map(row).join('\n')}`;
}

export function tokenTable({ tokenCosts, extraUs }) {
  const rows = ['HS256', 'EdDSA'].map((alg) => {
    const c = tokenCosts[alg];
    if (!c) return `| ${alg} | not measured | | | | | |`;
    const http = extraUs(`node-${alg.toLowerCase()}-miss`, `node-${alg.toLowerCase()}`);
    return `| ${alg} | ${fmt(c.bare, 1)} | ${fmt(c.fastJwt, 1)} (${fmt(c.fastJwt / c.bare, 2)}×) | ${fmt(c.miss, 1)} (${fmt(c.miss / c.bare, 2)}×) | ${fmt(c.hit, 2)} | ${fmt(c.jose, 1)} (${fmt(c.jose / c.bare, 2)}×) | ${http === undefined ? 'not measured' : `+${fmt(http, 1)}`} |`;
  });
  const cache = tokenCosts.cache;
  return `CPU µs per token, one token at a time (${tokenCosts.count} tokens, median of 4 rounds after a warm-up), in one process pinned to core 0; the last column is the HTTP figure: CPU µs per request of the "every token new" row over the cache-hit row.

| algorithm | bare node:crypto signature check | fast-jwt verify alone | Gatehouse, unseen token (miss) | Gatehouse, cache hit | jose jwtVerify (before) | HTTP: miss over hit |
|---|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}
${cache ? `\nThe verified-token cache holds at most ${cache.cap} tokens (the oldest is forgotten first): after ${cache.inserted} distinct HS256 tokens it held ${cache.entries}, and the heap had grown by ${fmt(cache.totalMB, 1)} MB (≈ ${fmt(cache.bytesPerEntry / 1024, 1)} KB per entry, token text included).` : ''}`;
}

/** rates.mjs's rows, whichever shape it prints: `{ rows: [...] }`, or the older `{ sqlite, postgres, argon2 }`. */
function rateRows(rates) {
  if (Array.isArray(rates?.rows)) {
    return rates.rows.map((r) => ({
      what: r.what ?? r.label,
      perSecond: r.perSecond ?? r.rate,
      ratio: r.ratio ?? r.ratioToBare,
      bareLabel: r.bare ?? r.bareLabel,
      bareRate: r.barePerSecond,
      goal: r.goal,
      limit: r.limit ?? r.why,
      notes: r.notes ?? '',
    }));
  }
  if (!rates?.sqlite) return [];
  return [
    { what: 'refresh rotations, SQLite', perSecond: rates.sqlite.rotationsPerSecond, notes: `${rates.chains} sessions rotating in parallel, each a chain` },
    { what: 'refresh rotations, PostgreSQL', perSecond: rates.postgres?.rotationsPerSecond, notes: rates.postgres?.unavailable ?? 'same chains, local server' },
    { what: 'logins (Argon2id verify + new session)', perSecond: rates.sqlite.loginsPerSecond, notes: `${rates.loginConcurrency} in flight` },
    { what: `Argon2id verify alone (m=${rates.argon2.memoryCost} KiB, t=${rates.argon2.timeCost}, p=${rates.argon2.parallelism})`, perSecond: 1000 / rates.argon2.verifyMs, notes: 'one at a time, @node-rs/argon2' },
  ];
}

export function ratesTable({ rates }) {
  const rows = rateRows(rates).map(
    (r) => `| ${r.what} | ${r.perSecond === undefined ? 'not measured' : fmt(r.perSecond)} | ${r.ratio === undefined ? '–' : `**${fmt(r.ratio, 2)}**${r.bareLabel ? ` of ${r.bareLabel}` : ''}`} | ${r.notes} |`,
  );
  return `| what | per second | ratio to its bare operation, same run | notes |\n|---|---:|---:|---|\n${rows.join('\n')}`;
}

/** One section run by its own script (gateway, signatures, dpop): its rows, paired with its baseline. */
export function sectionTable(section) {
  const row = (r) => {
    const range = r.range ? ` (${fmt(r.range[0], 2)}–${fmt(r.range[1], 2)})` : '';
    const ratio = r.reference ? '–' : r.baseline ? '**1.00**' : `**${fmt(r.paired, 2)}**${range}`;
    return `| ${r.label} | ${fmt(r.rps)} | ${fmt(r.p99, 2)} | ${fmt(r.cpuUs, 1)} | ${ratio} | ${fmt((r.share ?? NaN) * 100)} % | ${r.note ?? ''} |`;
  };
  return `| target | req/s | p99 ms | server CPU µs per request | paired ratio to ${section.baseline} | core share | |\n|---|---:|---:|---:|---:|---:|---|\n${section.rows.map(row).join('\n')}`;
}

/**
 * The goals of the sections run by their own scripts: issue 10's gateway (≥ 0.8 of the bare
 * undici proxy) and issue 11's DPoP and signed rows (no numeric goal: the ratio is reported).
 */
export function sectionGoalRows(sections) {
  const paired = (name, id) => sections.get(name)?.rows?.find((r) => r.id === id)?.paired;
  const why = (name) => sections.get(name)?.failed ?? '';
  const reported = (label, value, name) =>
    value === undefined ? `| ${label} | not measured | reported | ${why(name)} |` : `| ${label} | ${fmt(value, 2)} | reported (issue 11 sets no figure) | |`;
  return [
    goalRow('Gateway: guarded, proxied GET, paired ratio to the bare undici proxy (issue 10)', paired('gateway', 'gatehouse'), 0.8, { why: why('gateway') }),
    reported('DPoP-bound guarded GET, paired ratio to bare node:http (issue 11)', paired('dpop', 'dpop'), 'dpop'),
    reported('RFC 9421-signed guarded GET, paired ratio to bare node:http (issue 11)', paired('signatures', 'signed'), 'signatures'),
  ];
}
