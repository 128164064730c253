import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CLIIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/load.js';
import { secretProblem } from '../../src/core/keys.js';
import { createLogger } from '../../src/core/logger.js';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.js';

const SECRET = 'cli-test-secret-4f9Kq2Lm8Zx1Vb7Nc3Rt6Yw0';
const PASSWORD = 'correct horse battery staple';
const CLIENT = { ip: '127.0.0.1', userAgent: 'admin-test' } as const;

interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

let cwd: string;
let dataDir: string;
const open: Gatehouse[] = [];

beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
  roots.push(cwd);
  dataDir = join(cwd, 'data');
});

afterEach(async () => {
  for (const g of open.splice(0)) await g.close();
});

/** Runs the CLI in-process against the test's data directory. */
async function run(argv: readonly string[], options: { stdin?: string; env?: Record<string, string | undefined>; dataDir?: boolean } = {}): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  let stdinReads = 0;
  const io: CLIIO = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    readStdin: async () => {
      stdinReads += 1;
      return options.stdin ?? '';
    },
    env: options.env ?? { GATEHOUSE_SECRET: SECRET },
    cwd,
    // Admin commands never wait for a signal; if one did, the test would time out.
    stopSignal: new Promise<string>(() => undefined),
  };
  // Options first: an argument after "--" is an operand.
  const args = options.dataDir === false ? [...argv] : ['--data-dir', dataDir, ...argv];
  const code = await main(args, io);
  expect(stdinReads).toBeLessThanOrEqual(1);
  return { code, stdout, stderr };
}

/** A Gatehouse on the same SQLite file, standing in for the running server. */
async function server(): Promise<Gatehouse> {
  // Never polls (60 s) in these tests, so the list must not be judged stale while a test runs.
  const config = loadConfig({ env: { GATEHOUSE_SECRET: SECRET }, cwd, overrides: { dataDir, 'revocation.maxStalenessSeconds': 3600 } });
  const gatehouse = await createGatehouse({ config, logger: createLogger('silent'), revocationSyncIntervalMs: 60_000 });
  open.push(gatehouse);
  return gatehouse;
}

async function addAlice(...extra: string[]): Promise<void> {
  const result = await run(['user', 'add', 'alice', '--password-stdin', ...extra], { stdin: `${PASSWORD}\n` });
  expect(result, result.stderr).toMatchObject({ code: 0 });
}

/** Stores a live session of `userId` with a chosen id, as a login would. */
async function plantSession(gatehouse: Gatehouse, userId: string, id: string): Promise<void> {
  const now = Date.now();
  const session = { id, userId, createdAt: now, idleExpiresAt: now + 3_600_000, absoluteExpiresAt: now + 7_200_000, userAgent: 'admin-test', ip: '127.0.0.1' };
  await gatehouse.store.createSession(session, randomBytes(32).toString('base64url'));
}

/** Signs alice in on `gatehouse` and returns the session id and the user version of the access token (its `uv` claim). */
async function signIn(gatehouse: Gatehouse, password = PASSWORD): Promise<{ sessionId: string; userId: string; userVersion: number }> {
  const issued = await gatehouse.auth.login({ username: 'alice', password }, CLIENT);
  const payload = JSON.parse(Buffer.from(issued.accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { uv: number };
  return { sessionId: issued.session.id, userId: issued.user.id, userVersion: payload.uv };
}

describe('user add', () => {
  it('creates a user with roles whose password works', async () => {
    const result = await run(['user', 'add', 'Alice', '--role', 'admin', '--role', 'user', '--password-stdin'], { stdin: `${PASSWORD}\n` });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Created user alice \([0-9a-f-]{36}\) with roles admin, user\.\n$/);
    expect(result.stderr).toBe('');

    const gatehouse = await server();
    const user = await gatehouse.store.findUserByUsername('alice');
    expect(user).toMatchObject({ username: 'alice', roles: ['admin', 'user'], disabled: false });
    // The trailing newline from `echo` is not part of the password.
    const issued = await gatehouse.auth.login({ username: 'alice', password: PASSWORD }, CLIENT);
    expect(issued.user).toEqual({ id: user?.id, username: 'alice', roles: ['admin', 'user'] });
    await expect(gatehouse.auth.login({ username: 'alice', password: `${PASSWORD}\n` }, CLIENT)).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });

  it('prints JSON with --json', async () => {
    const result = await run(['user', 'add', 'bob', '--password-stdin', '--json'], { stdin: PASSWORD });
    expect(result.code, result.stderr).toBe(0);
    const body = JSON.parse(result.stdout) as { id: string; username: string; roles: string[] };
    expect(body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), username: 'bob', roles: [] });
  });

  it('refuses a username that is taken, also in another letter case', async () => {
    await addAlice();
    for (const name of ['alice', 'ALICE']) {
      const result = await run(['user', 'add', name, '--password-stdin'], { stdin: 'another fine passphrase' });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^gatehouse: USERNAME_TAKEN: /);
      expect(result.stdout).toBe('');
    }
  });

  it('refuses a weak password and creates nobody', async () => {
    // Too short, a common password, the username itself (checked after normalisation), and passwords built on
    // context words (ASVS 6.2.11): the username, the product name, the service's host (publicOrigin http://localhost:8080).
    for (const [username, password] of [
      ['carol', 'short'],
      ['carol', 'Password123'],
      ['carolcarol', 'CarolCarol'],
      ['carol', 'Carol2026!!'],
      ['carol', 'Gatehouse2026'],
      ['carol', 'localhost!2026'],
    ] as const) {
      const result = await run(['user', 'add', username, '--password-stdin'], { stdin: `${password}\n` });
      expect(result.code, password).toBe(1);
      expect(result.stderr).toMatch(/^gatehouse: PASSWORD_POLICY: /);
    }
    const gatehouse = await server();
    expect(await gatehouse.store.findUserByUsername('carol')).toBeNull();
    expect(await gatehouse.store.findUserByUsername('carolcarol')).toBeNull();
  });

  it('refuses a bad username with exit 1', async () => {
    const result = await run(['user', 'add', 'no spaces allowed', '--password-stdin'], { stdin: PASSWORD });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^gatehouse: USERNAME_INVALID: /);
  });

  it('needs --password-stdin (usage error, exit 2)', async () => {
    const result = await run(['user', 'add', 'alice'], { stdin: PASSWORD });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--password-stdin');
    expect(result.stderr).toContain('gatehouse user add --help');
    expect(await (await server()).store.findUserByUsername('alice')).toBeNull();
  });

  it('needs exactly one username (exit 2)', async () => {
    expect((await run(['user', 'add', '--password-stdin'], { stdin: PASSWORD })).code).toBe(2);
    expect((await run(['user', 'add', 'a', 'b', '--password-stdin'], { stdin: PASSWORD })).code).toBe(2);
  });
});

describe('user set-password', () => {
  it('ends every session and the new password works, the old one not', async () => {
    await addAlice();
    const gatehouse = await server();
    const before = await signIn(gatehouse);

    const newPassword = 'a completely different passphrase';
    const result = await run(['user', 'set-password', 'alice', '--password-stdin'], { stdin: `${newPassword}\n` });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('Password changed for alice; ended 1 session(s).\n');

    expect(await gatehouse.auth.listSessions(before.userId)).toEqual([]);
    // The running server learns of it through the store, before the access token expires.
    await gatehouse.revocations.sync();
    expect(gatehouse.revocations.check(before.sessionId, before.userId, before.userVersion)).toBe('revoked');

    await expect(gatehouse.auth.login({ username: 'alice', password: PASSWORD }, CLIENT)).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expect(signIn(gatehouse, newPassword)).resolves.toMatchObject({ userId: before.userId });
  });

  it('applies the password policy, context words included', async () => {
    await addAlice();
    for (const password of ['alice', 'alice-2026!', 'gatehouse.2026']) {
      const result = await run(['user', 'set-password', 'alice', '--password-stdin'], { stdin: `${password}\n` });
      expect(result.code, password).toBe(1);
      expect(result.stderr).toMatch(/PASSWORD_POLICY/);
    }
    await expect(signIn(await server())).resolves.toBeDefined();
  });

  it('needs --password-stdin and an existing user', async () => {
    await addAlice();
    expect((await run(['user', 'set-password', 'alice'], { stdin: 'whatever passphrase' })).code).toBe(2);
    const missing = await run(['user', 'set-password', 'nobody', '--password-stdin'], { stdin: 'whatever passphrase' });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^gatehouse: USER_NOT_FOUND: /);
  });
});

describe('user disable', () => {
  it('ends every session and refuses further logins', async () => {
    await addAlice();
    const gatehouse = await server();
    const one = await signIn(gatehouse);
    const two = await signIn(gatehouse);

    const result = await run(['user', 'disable', 'alice', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ disabled: true, sessionsRevoked: 2 });

    expect(await gatehouse.auth.listSessions(one.userId)).toEqual([]);
    await gatehouse.revocations.sync();
    expect(gatehouse.revocations.check(one.sessionId, one.userId, one.userVersion)).toBe('revoked');
    expect(gatehouse.revocations.check(two.sessionId, two.userId, two.userVersion)).toBe('revoked');
    await expect(signIn(gatehouse)).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });

  it('succeeds again on a disabled user', async () => {
    await addAlice();
    expect((await run(['user', 'disable', 'alice'])).code).toBe(0);
    expect(await run(['user', 'disable', 'alice'])).toMatchObject({ code: 0, stdout: 'Disabled alice; ended 0 session(s).\n' });
  });

  it('reports an unknown user with exit 1', async () => {
    const result = await run(['user', 'disable', 'nobody']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^gatehouse: USER_NOT_FOUND: /);
  });
});

describe('session list', () => {
  it('lists active sessions as text and as JSON', async () => {
    await addAlice();
    const empty = await run(['session', 'list', 'alice']);
    expect(empty).toMatchObject({ code: 0, stdout: 'No active sessions for alice.\n' });

    const gatehouse = await server();
    const one = await signIn(gatehouse);
    const two = await signIn(gatehouse);

    const text = await run(['session', 'list', 'alice']);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    for (const id of [one.sessionId, two.sessionId]) {
      const line = lines.find((l) => l.startsWith(`${id}  `));
      expect(line, id).toMatch(/ created \d{4}-\d\d-\d\dT[\d:.]+Z {2}last seen \d{4}-\d\d-\d\dT[\d:.]+Z {2}127\.0\.0\.1 {2}admin-test$/);
    }

    const json = await run(['session', 'list', 'alice', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const body = JSON.parse(json.stdout) as { sessions: { id: string; createdAt: string; lastSeenAt: string; ip: string; userAgent: string }[] };
    expect(body.sessions.map((s) => s.id).sort()).toEqual([one.sessionId, two.sessionId].sort());
    expect(body.sessions[0]).toEqual({
      id: expect.any(String),
      createdAt: expect.stringMatching(/Z$/),
      lastSeenAt: expect.stringMatching(/Z$/),
      ip: '127.0.0.1',
      userAgent: 'admin-test',
    });
  });

  it('reports an unknown user with exit 1', async () => {
    const result = await run(['session', 'list', 'nobody']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^gatehouse: USER_NOT_FOUND: /);
  });
});

describe('session revoke', () => {
  // Session ids are base64url: about one in 64 starts with "-", and the CLI must not take it for an option.
  const DASH_ID = '-GqMbq0vQ0bqJ3m1c8yT0x';
  const DOUBLE_DASH_ID = '--h2JX9a7uYyQe0m4o2V8b';

  it('ends one session by id, also an id that starts with - or --, and leaves the others', async () => {
    await addAlice();
    const gatehouse = await server();
    const kept = await signIn(gatehouse);
    await plantSession(gatehouse, kept.userId, DASH_ID);
    await plantSession(gatehouse, kept.userId, DOUBLE_DASH_ID);

    const result = await run(['session', 'revoke', DASH_ID]);
    expect(result, result.stderr).toMatchObject({ code: 0, stdout: `Ended session ${DASH_ID}.\n` });
    const json = await run(['session', 'revoke', '--json', DOUBLE_DASH_ID]);
    expect(json, json.stderr).toMatchObject({ code: 0, stdout: `{"revoked":["${DOUBLE_DASH_ID}"]}\n` });

    expect((await gatehouse.auth.listSessions(kept.userId)).map((s) => s.id)).toEqual([kept.sessionId]);
    await gatehouse.revocations.sync();
    expect(gatehouse.revocations.check(DASH_ID, kept.userId, kept.userVersion)).toBe('revoked');
    expect(gatehouse.revocations.check(DOUBLE_DASH_ID, kept.userId, kept.userVersion)).toBe('revoked');
    expect(gatehouse.revocations.check(kept.sessionId, kept.userId, kept.userVersion)).toBeNull();

    // Ending it again (here after "--", which also ends the options): it is no longer a live session.
    const again = await run(['session', 'revoke', '--', DASH_ID]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^gatehouse: SESSION_NOT_FOUND: /);
  });

  it('still refuses an unknown option where no id is expected', async () => {
    for (const argv of [['session', 'list', '-GqMb'], ['session', '-GqMb', 'revoke'], ['user', 'add', 'alice', '--password-stdin', '-x']]) {
      const result = await run(argv, { stdin: PASSWORD });
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/^gatehouse: unknown option -/);
    }
  });

  it('ends every session of a user with --user', async () => {
    await addAlice();
    const gatehouse = await server();
    const one = await signIn(gatehouse);
    const two = await signIn(gatehouse);

    const result = await run(['session', 'revoke', '--user', 'alice', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { revoked: string[] }).revoked.sort()).toEqual([one.sessionId, two.sessionId].sort());
    expect(await gatehouse.auth.listSessions(one.userId)).toEqual([]);
    // The user is not disabled: signing in again works.
    await expect(signIn(gatehouse)).resolves.toBeDefined();
  });

  it('reports an unknown session id or user with exit 1', async () => {
    await addAlice();
    const unknownSession = await run(['session', 'revoke', 'no-such-session']);
    expect(unknownSession.code).toBe(1);
    expect(unknownSession.stderr).toMatch(/^gatehouse: SESSION_NOT_FOUND: /);
    const unknownUser = await run(['session', 'revoke', '--user', 'nobody']);
    expect(unknownUser.code).toBe(1);
    expect(unknownUser.stderr).toMatch(/^gatehouse: USER_NOT_FOUND: /);
  });

  it('needs a session id or --user, not both (exit 2)', async () => {
    expect((await run(['session', 'revoke'])).code).toBe(2);
    const both = await run(['session', 'revoke', 'abc', '--user', 'alice']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('not both');
  });
});

describe('configuration errors', () => {
  it('a missing secret is a configuration error (exit 2) naming secret', async () => {
    const result = await run(['session', 'list', 'alice'], { env: {} });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^gatehouse: CONFIG_INVALID: Invalid configuration:\n {2}- secret: /);
  });

  it('a bad environment value names the field and the variable (exit 2)', async () => {
    const result = await run(['session', 'list', 'alice'], { env: { GATEHOUSE_SECRET: SECRET, GATEHOUSE_SESSION_IDLE_TIMEOUT_SECONDS: 'week' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('session.idleTimeoutSeconds: GATEHOUSE_SESSION_IDLE_TIMEOUT_SECONDS must be a number');
  });

  it('--config must exist', async () => {
    const result = await run(['migrate', '--config', 'nope.json']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(join(cwd, 'nope.json'));
  });
});

describe('secret generate', () => {
  it('prints a fresh base64url secret of at least 64 characters that the server accepts', async () => {
    const first = await run(['secret', 'generate'], { env: {}, dataDir: false });
    const second = await run(['secret', 'generate'], { env: {}, dataDir: false });
    for (const result of [first, second]) {
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^[A-Za-z0-9_-]{64,}\n$/);
      expect(secretProblem(result.stdout.trimEnd())).toBeNull();
    }
    expect(first.stdout).not.toBe(second.stdout);
  });
});

describe('migrate', () => {
  it('creates the schema and is idempotent', async () => {
    const first = await run(['migrate']);
    expect(first, first.stderr).toMatchObject({ code: 0, stdout: 'Schema is up to date.\n' });
    const second = await run(['migrate', '--json']);
    expect(second, second.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(second.stdout)).toEqual({ migrated: true });
    // The schema works: a user can be added afterwards.
    await addAlice();
  });
});
