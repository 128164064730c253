// Stateful rates, measured through Gatehouse's session service (no HTTP): refresh rotations/s
// on SQLite (and PostgreSQL when this build has the store and BENCH_PG_URL or the default
// local server answers), logins/s, and the Argon2id cost that bounds logins.
// Usage: node bench/rates.mjs <seconds>; prints one JSON line.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash, verify } from '@node-rs/argon2';
import * as server from '@gatehouse/server';

const SECONDS = Number(process.argv[2] ?? 5);
const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const PASSWORD = 'a long benchmark passphrase';
const CLIENT = Object.freeze({ ip: '127.0.0.1', userAgent: 'bench' });
const CHAINS = 16;
const LOGIN_CONCURRENCY = 4;
// Gatehouse's Argon2id parameters (ARGON2_MINIMUM in core/password.ts: OWASP's minimum for Argon2id).
const ARGON2 = { memoryCost: 19456, timeCost: 2, parallelism: 1, algorithm: 2 };

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

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

/** CHAINS sessions rotate in parallel, each chain one rotation after another, for SECONDS. */
async function rotationsPerSecond(gatehouse) {
  const chains = [];
  for (let i = 0; i < CHAINS; i++) chains.push(await gatehouse.auth.login({ username: 'bench', password: PASSWORD }, CLIENT));
  let count = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  await Promise.all(
    chains.map(async (issued) => {
      let token = issued.refreshToken;
      while (performance.now() < deadline) {
        token = (await gatehouse.auth.refresh(token, CLIENT)).refreshToken;
        count++;
      }
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

async function loginsPerSecond(gatehouse) {
  let count = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: LOGIN_CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        await gatehouse.auth.login({ username: 'bench', password: PASSWORD }, CLIENT);
        count++;
      }
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

async function argon2VerifyMs() {
  const stored = await hash(PASSWORD, ARGON2);
  const times = [];
  for (let i = 0; i < 15; i++) {
    const t = performance.now();
    await verify(stored, PASSWORD);
    times.push(performance.now() - t);
  }
  return median(times);
}

async function postgres() {
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
  try {
    return { rotationsPerSecond: await withGatehouse(store, rotationsPerSecond) };
  } finally {
    await store.close();
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
}

const sqlite = await withGatehouse(undefined, async (gatehouse) => ({
  rotationsPerSecond: await rotationsPerSecond(gatehouse),
  loginsPerSecond: await loginsPerSecond(gatehouse),
}));
const result = {
  sqlite,
  postgres: await postgres(),
  argon2: { ...ARGON2, verifyMs: await argon2VerifyMs() },
  chains: CHAINS,
  loginConcurrency: LOGIN_CONCURRENCY,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
