// Stateful rates through Gatehouse's session service (no HTTP), each as a ratio to its bare
// operation measured in the same run, interleaved round by round so that a busy machine slows
// both sides of a ratio alike:
//   - refresh rotation on SQLite against a bare select + mark + insert transaction on the same
//     kind of file (WAL, synchronous=FULL), same table shape;
//   - refresh rotation on PostgreSQL against a bare 5-round-trip transaction (BEGIN, SELECT … FOR
//     UPDATE, UPDATE, INSERT, COMMIT) through a pool of the same size (when BENCH_PG_URL or the
//     default local server answers);
//   - login against a raw Argon2id verify loop with the same parameters and as many in flight.
// A rotation includes everything a refresh does besides HTTP: deriving and hashing the
// successors, the store's transaction with its audit row, and signing the new access token.
//
// Usage: node bench/rates.mjs [seconds of each side]; prints one JSON line
// `{ rows: [...], … }` (rows as bench/report.mjs renders them). Or import { measureRates }.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hash, verify } from '@node-rs/argon2';
import Database from 'better-sqlite3';
import * as server from '@gatehouse/server';

const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const PASSWORD = 'a long benchmark passphrase';
const CLIENT = Object.freeze({ ip: '127.0.0.1', userAgent: 'bench' });
const CHAINS = 16;
const LOGIN_CONCURRENCY = 4;
// Gatehouse's Argon2id parameters (ARGON2_MINIMUM in core/password.ts: OWASP's minimum for Argon2id).
const ARGON2 = { memoryCost: 19456, timeCost: 2, parallelism: 1, algorithm: 2 };
// Rotations take a fraction of a millisecond, logins tens: samples long enough to hold many of each.
const SAMPLE_SECONDS = { rotation: 0.5, login: 1 };
const GOALS = { rotationSQLite: 0.8, rotationPostgres: 0.8, login: 0.9 };
// The refresh_tokens table as the SQLite store's migrations leave it, without the foreign key.
const TOKENS_DDL = `
  CREATE TABLE refresh_tokens (
    hash TEXT PRIMARY KEY, session_id TEXT NOT NULL, generation INTEGER NOT NULL, created_at INTEGER NOT NULL,
    rotated_at INTEGER, superseded_at INTEGER, replacement INTEGER NOT NULL DEFAULT 0
  ) STRICT;
  CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id, generation);
  CREATE UNIQUE INDEX refresh_tokens_one_live ON refresh_tokens (session_id) WHERE rotated_at IS NULL;`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs `concurrency` loops of `step` for `seconds`; operations per second. */
async function perSecond(seconds, concurrency, step) {
  let count = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      while (performance.now() < deadline) {
        await step(lane);
        count++;
      }
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

/** A Gatehouse on `store` (its own SQLite file when undefined) with one user; `fn` gets it. */
async function withGatehouse(store, fn) {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-rates-'));
  try {
    const config = server.resolveConfig({ secret: SECRET, dataDir, logLevel: 'silent' });
    const { pino } = await import('pino');
    const gatehouse = await server.createGatehouse({ config, store, logger: pino({ level: 'silent' }) });
    try {
      await gatehouse.auth.createUser({ username: 'bench', password: PASSWORD, roles: ['user'] });
      return await fn(gatehouse);
    } finally {
      await gatehouse.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** `chains` sessions rotating in parallel, each chain one rotation after another. */
async function rotations(gatehouse, chains = CHAINS) {
  const tokens = [];
  for (let i = 0; i < chains; i++) tokens.push((await gatehouse.auth.login({ username: 'bench', password: PASSWORD }, CLIENT)).refreshToken);
  return (seconds) =>
    perSecond(seconds, chains, async (lane) => {
      tokens[lane] = (await gatehouse.auth.refresh(tokens[lane], CLIENT)).refreshToken;
    });
}

/** The bare SQLite transaction: find the token by hash, mark it, insert its successor. */
function bareSQLite(dir, chains = CHAINS) {
  const db = new Database(join(dir, 'bare.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(TOKENS_DDL);
  const find = db.prepare('SELECT session_id, generation, rotated_at FROM refresh_tokens WHERE hash = ?');
  const mark = db.prepare('UPDATE refresh_tokens SET rotated_at = ? WHERE hash = ? AND rotated_at IS NULL');
  const insert = db.prepare('INSERT INTO refresh_tokens (hash, session_id, generation, created_at) VALUES (?, ?, ?, ?)');
  const rotate = db.transaction((presented, successor, now) => {
    const row = find.get(presented);
    mark.run(now, presented);
    insert.run(successor, row.session_id, row.generation + 1, now);
  });
  const heads = Array.from({ length: chains }, (_, i) => {
    insert.run(`t-${i}-0`, `s-${i}`, 0, Date.now());
    return 0;
  });
  return {
    rate: (seconds) =>
      perSecond(seconds, chains, async (lane) => {
        const g = heads[lane];
        rotate.immediate(`t-${lane}-${g}`, `t-${lane}-${g + 1}`, Date.now());
        heads[lane] = g + 1;
      }),
    close: () => db.close(),
  };
}

/** The bare PostgreSQL transaction, five round trips: BEGIN, SELECT … FOR UPDATE, UPDATE, INSERT, COMMIT. */
async function barePostgres(pg, url, schema) {
  const pool = new pg.Pool({ connectionString: url, max: CHAINS, options: `-c search_path=${schema}` });
  await pool.query(`CREATE TABLE bare_tokens (
    hash TEXT PRIMARY KEY, session_id TEXT NOT NULL, generation INTEGER NOT NULL, created_at BIGINT NOT NULL,
    rotated_at BIGINT, superseded_at BIGINT, replacement BOOLEAN NOT NULL DEFAULT FALSE)`);
  await pool.query('CREATE INDEX bare_tokens_by_session ON bare_tokens (session_id, generation)');
  await pool.query('CREATE UNIQUE INDEX bare_tokens_one_live ON bare_tokens (session_id) WHERE rotated_at IS NULL');
  const heads = [];
  for (let i = 0; i < CHAINS; i++) {
    await pool.query('INSERT INTO bare_tokens (hash, session_id, generation, created_at) VALUES ($1, $2, 0, $3)', [`t-${i}-0`, `s-${i}`, Date.now()]);
    heads.push(0);
  }
  return {
    rate: (seconds) =>
      perSecond(seconds, CHAINS, async (lane) => {
        const g = heads[lane];
        const presented = `t-${lane}-${g}`;
        const now = Date.now();
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const { rows } = await client.query('SELECT session_id, generation FROM bare_tokens WHERE hash = $1 FOR UPDATE', [presented]);
          await client.query('UPDATE bare_tokens SET rotated_at = $1 WHERE hash = $2', [now, presented]);
          await client.query('INSERT INTO bare_tokens (hash, session_id, generation, created_at) VALUES ($1, $2, $3, $4)', [`t-${lane}-${g + 1}`, rows[0].session_id, g + 1, now]);
          await client.query('COMMIT');
        } finally {
          client.release();
        }
        heads[lane] = g + 1;
      }),
    close: () => pool.end(),
  };
}

/**
 * `seconds` of each side, cut into short samples taken in turns (bare first, then Gatehouse first,
 * alternating), so that a busy machine or a disk flushing for someone else slows both sides of
 * most pairs alike; the median of the per-pair ratios.
 */
async function paired(seconds, sampleSeconds, bare, real) {
  const rounds = Math.max(3, Math.round(seconds / sampleSeconds));
  const pairs = [];
  for (let round = 0; round < rounds; round++) {
    const first = round % 2 === 0 ? bare : real;
    const a = await first(sampleSeconds);
    const b = await (first === bare ? real : bare)(sampleSeconds);
    const [bareRate, realRate] = first === bare ? [a, b] : [b, a];
    pairs.push({ bare: bareRate, real: realRate, ratio: realRate / bareRate });
  }
  return {
    perSecond: median(pairs.map((p) => p.real)),
    barePerSecond: median(pairs.map((p) => p.bare)),
    ratio: median(pairs.map((p) => p.ratio)),
    ratios: pairs.map((p) => Number(p.ratio.toFixed(3))),
    rounds,
  };
}

async function measureSQLite(seconds) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-bare-'));
  const bare = bareSQLite(dir);
  const bareOne = bareSQLite(mkdtempSync(join(dir, 'one-')), 1);
  try {
    return await withGatehouse(undefined, async (gatehouse) => {
      const rotation = await paired(seconds, SAMPLE_SECONDS.rotation, bare.rate, await rotations(gatehouse));
      // One chain: no two rotations are ever pending together, so none shares a commit.
      const single = await paired(seconds, SAMPLE_SECONDS.rotation, bareOne.rate, await rotations(gatehouse, 1));
      const login = await paired(seconds, SAMPLE_SECONDS.login, argon2Loop(await hash(PASSWORD, ARGON2)), (s) =>
        perSecond(s, LOGIN_CONCURRENCY, () => gatehouse.auth.login({ username: 'bench', password: PASSWORD }, CLIENT)),
      );
      return { rotation, single, login };
    });
  } finally {
    bare.close();
    bareOne.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The raw Argon2id verify loop, as many in flight as the login measurement. */
function argon2Loop(stored) {
  return (seconds) => perSecond(seconds, LOGIN_CONCURRENCY, () => verify(stored, PASSWORD));
}

async function measurePostgres(seconds) {
  if (typeof server.openPostgresStore !== 'function') return { unavailable: 'no PostgreSQL store in this build of @gatehouse/server' };
  const url = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `gatehouse_bench_${process.pid}_${Date.now()}`;
  const store = await server.openPostgresStore({ url, schema, poolSize: CHAINS });
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => {});
    return { unavailable: `PostgreSQL at ${new URL(url).host} did not answer (${error.code ?? error.message})` };
  }
  const { default: pg } = await import('pg');
  try {
    const bare = await barePostgres(pg, url, schema);
    try {
      return { rotation: await withGatehouse(store, async (gatehouse) => paired(seconds, SAMPLE_SECONDS.rotation, bare.rate, await rotations(gatehouse))) };
    } finally {
      await bare.close();
    }
  } finally {
    await store.close().catch(() => {});
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
}

/**
 * Measures every rate, `seconds` of each side of each ratio.
 * Returns `{ rows, sqlite, postgres, … }`: `rows` in the shape bench/report.mjs renders.
 */
export async function measureRates({ seconds = 5 } = {}) {
  const sqlite = await measureSQLite(seconds);
  const postgres = await measurePostgres(seconds);
  const row = (what, m, bare, goal, notes) => ({
    what,
    perSecond: m?.perSecond,
    ratio: m?.ratio,
    bare,
    barePerSecond: m?.barePerSecond,
    goal,
    notes,
  });
  const rows = [
    row(`refresh rotations, SQLite, ${CHAINS} chains at once`, sqlite.rotation, 'a bare select + mark + insert transaction', GOALS.rotationSQLite,
      `each refresh also signs an access token; rotations pending together share one commit (group commit), the bare transactions do not; WAL, synchronous=FULL; median of ${sqlite.rotation.rounds} paired samples`),
    row('refresh rotations, SQLite, one at a time', sqlite.single, 'the same bare transaction, one at a time', GOALS.rotationSQLite,
      `one chain, so every rotation pays its own commit; each also signs an access token; median of ${sqlite.single.rounds} paired samples`),
    row('refresh rotations, PostgreSQL', postgres.rotation, 'a bare 5-round-trip transaction', GOALS.rotationPostgres,
      postgres.unavailable ?? `${CHAINS} chains, a pool of ${CHAINS}, local server; median of ${postgres.rotation?.rounds} paired samples`),
    row('logins (Argon2id verify + new session)', sqlite.login, 'a raw Argon2id verify loop', GOALS.login,
      `${LOGIN_CONCURRENCY} in flight, SQLite; median of ${sqlite.login.rounds} paired samples`),
  ];
  return {
    rows,
    sqlite: { rotationsPerSecond: sqlite.rotation.perSecond, loginsPerSecond: sqlite.login.perSecond, rotation: sqlite.rotation, single: sqlite.single, login: sqlite.login },
    postgres: postgres.unavailable ? postgres : { rotationsPerSecond: postgres.rotation.perSecond, rotation: postgres.rotation },
    argon2: { ...ARGON2, verifiesPerSecond: sqlite.login.barePerSecond, inFlight: LOGIN_CONCURRENCY },
    chains: CHAINS,
    loginConcurrency: LOGIN_CONCURRENCY,
    seconds,
    sampleSeconds: SAMPLE_SECONDS,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seconds = Number(process.argv[2] ?? 5);
  process.stdout.write(`${JSON.stringify(await measureRates({ seconds }))}\n`);
}
