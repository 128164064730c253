/**
 * `gatehouse user roles`, run in-process against a SQLite file that a second
 * Gatehouse (standing in for the running server) shares.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CLIIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/core/logger.js';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.js';

const SECRET = 'cli-test-secret-4f9Kq2Lm8Zx1Vb7Nc3Rt6Yw0';
const PASSWORD = 'correct horse battery staple';
const CLIENT = { ip: '127.0.0.1', userAgent: 'roles-test' } as const;

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

beforeEach(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'gatehouse-cli-roles-'));
  roots.push(cwd);
  dataDir = join(cwd, 'data');
  const added = await run(['user', 'add', 'alice', '--role', 'admin', '--role', 'user', '--password-stdin'], PASSWORD);
  expect(added.code, added.stderr).toBe(0);
});

afterEach(async () => {
  for (const g of open.splice(0)) await g.close();
});

async function run(argv: readonly string[], stdin = ''): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const io: CLIIO = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    readStdin: async () => stdin,
    env: { GATEHOUSE_SECRET: SECRET },
    cwd,
    stopSignal: new Promise<string>(() => undefined),
  };
  const code = await main(['--data-dir', dataDir, ...argv], io);
  return { code, stdout, stderr };
}

/** A Gatehouse on the same SQLite file, standing in for the running server; it reads the store only when told to. */
async function server(): Promise<Gatehouse> {
  const config = loadConfig({ env: { GATEHOUSE_SECRET: SECRET }, cwd, overrides: { dataDir, 'revocation.maxStalenessSeconds': 3600 } });
  const gatehouse = await createGatehouse({ config, logger: createLogger('silent'), revocationSyncIntervalMs: 60_000 });
  open.push(gatehouse);
  return gatehouse;
}

/** Signs alice in and returns a check of her access token against the server's revocation list. */
async function aliceToken(gatehouse: Gatehouse): Promise<{ roles: readonly string[]; check: () => Promise<'revoked' | 'stale' | 'unverifiable' | null> }> {
  const issued = await gatehouse.auth.login({ username: 'alice', password: PASSWORD }, CLIENT);
  const payload = JSON.parse(Buffer.from(issued.accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { uv: number; sid: string; sub: string };
  return {
    roles: issued.user.roles,
    check: async () => {
      await gatehouse.revocations.sync();
      return gatehouse.revocations.check(payload.sid, payload.sub, payload.uv);
    },
  };
}

describe('gatehouse user roles', () => {
  it('shows the roles without changing anything', async () => {
    expect(await run(['user', 'roles', 'alice'])).toEqual({ code: 0, stdout: 'Roles of alice: admin, user.\n', stderr: '' });
    expect(JSON.parse((await run(['user', 'roles', 'ALICE', '--json'])).stdout)).toEqual({ username: 'alice', roles: ['admin', 'user'] });
  });

  it('--remove takes a role away: the running server refuses the token that still says admin, and the next sign-in has the new roles', async () => {
    const gatehouse = await server();
    const before = await aliceToken(gatehouse);
    expect(before.roles).toEqual(['admin', 'user']);
    expect(await before.check()).toBeNull();

    const result = await run(['user', 'roles', 'alice', '--remove', 'admin']);
    expect(result, result.stderr).toEqual({
      code: 0,
      stdout: 'Roles of alice: user (were: admin, user). Access tokens with the old roles are refused from their next request.\n',
      stderr: '',
    });
    expect(await before.check()).toBe('stale');
    const after = await aliceToken(gatehouse);
    expect(after.roles).toEqual(['user']);
    expect(await after.check()).toBeNull();
    expect(await gatehouse.store.listAudit({ type: 'roles_changed' })).toMatchObject([{ detail: { from: 'admin user', to: 'user' } }]);
  });

  it('--add appends, --remove and --add together edit, --set replaces; --json reports the change', async () => {
    const added = await run(['user', 'roles', 'alice', '--add', 'billing', '--add', 'support:read', '--json']);
    expect(JSON.parse(added.stdout)).toEqual({ username: 'alice', roles: ['admin', 'user', 'billing', 'support:read'], previousRoles: ['admin', 'user'], changed: true });
    const edited = await run(['user', 'roles', 'alice', '--remove', 'admin', '--remove', 'billing', '--add', 'ops', '--json']);
    expect(JSON.parse(edited.stdout)).toMatchObject({ roles: ['user', 'support:read', 'ops'], changed: true });
    const set = await run(['user', 'roles', 'alice', '--set', 'viewer', '--set', 'user', '--json']);
    expect(JSON.parse(set.stdout)).toMatchObject({ roles: ['viewer', 'user'], previousRoles: ['user', 'support:read', 'ops'], changed: true });
    const none = await run(['user', 'roles', 'alice', '--set', '']);
    expect(none.stdout).toBe('Roles of alice: none (were: viewer, user). Access tokens with the old roles are refused from their next request.\n');
  });

  it('a change that changes nothing writes nothing, and the token stays valid', async () => {
    const gatehouse = await server();
    const token = await aliceToken(gatehouse);
    for (const argv of [['--add', 'admin'], ['--remove', 'nobody-has-this'], ['--set', 'admin', '--set', 'user']]) {
      const result = await run(['user', 'roles', 'alice', ...argv]);
      expect(result, result.stderr).toEqual({ code: 0, stdout: 'Roles of alice: admin, user; nothing changed.\n', stderr: '' });
    }
    expect(await token.check()).toBeNull();
    expect(await gatehouse.store.listAudit({ type: 'roles_changed' })).toEqual([]);
  });

  it('refuses bad role names, a role both added and removed, and an unknown user with exit 1, changing nothing', async () => {
    for (const [argv, code] of [
      [['alice', '--add', 'has space'], 'ROLE_INVALID'],
      [['alice', '--set=-admin'], 'ROLE_INVALID'],
      [['alice', '--add', 'x'.repeat(65)], 'ROLE_INVALID'],
      [['alice', '--add', 'admin', '--remove', 'admin'], 'ROLE_INVALID'],
      [['nobody', '--add', 'admin'], 'USER_NOT_FOUND'],
    ] as const) {
      const result = await run(['user', 'roles', ...argv]);
      expect(result.code, argv.join(' ')).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^gatehouse: ${code}: `));
      expect(result.stdout).toBe('');
    }
    const tooMany = Array.from({ length: 31 }, (_, i) => ['--add', `r${i}`]).flat();
    expect((await run(['user', 'roles', 'alice', ...tooMany])).stderr).toMatch(/^gatehouse: ROLE_INVALID: A user may hold at most 32 roles/);
    expect((await run(['user', 'roles', 'alice'])).stdout).toBe('Roles of alice: admin, user.\n');
  });

  it('refuses --set together with --add or --remove, and a missing username, as usage errors (exit 2)', async () => {
    for (const argv of [['alice', '--set', 'a', '--add', 'b'], ['alice', '--set', 'a', '--remove', 'b'], [], ['alice', 'bob']]) {
      const result = await run(['user', 'roles', ...argv]);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
    }
  });

  it('user add refuses a bad role name too, and creates nobody', async () => {
    const result = await run(['user', 'add', 'bob', '--role', 'a,b', '--password-stdin'], 'another long passphrase');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^gatehouse: ROLE_INVALID: /);
    expect((await run(['user', 'roles', 'bob'])).stderr).toMatch(/^gatehouse: USER_NOT_FOUND: /);
  });
});
