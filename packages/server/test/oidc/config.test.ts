/**
 * The `oidc` configuration section is validated at start, and each problem
 * names its field; secrets never appear in the messages.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { isGatehouseError } from '../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-oidc-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = { secret: 'oidc-config-test-secret-0123456789-abcdefghijkl', publicOrigin: 'https://app.example.com', dataDir: dir } as const;
const provider = { id: 'corp', issuer: 'https://idp.example.com', clientId: 'gatehouse', clientSecret: 'the-client-secret-value' };

function problemsOf(oidc: ConfigInput['oidc'], extra: Partial<ConfigInput> = {}): string {
  try {
    resolveConfig({ ...base, ...extra, oidc });
  } catch (error) {
    if (isGatehouseError(error, 'CONFIG_INVALID')) return error.message;
    throw error;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('oidc.providers', () => {
  it('resolves a provider: redirect URI on the public origin, display name, default scopes and post-logout URI', () => {
    const config = resolveConfig({ ...base, oidc: { providers: [provider] } });
    expect(config.oidc.providers[0]).toMatchObject({
      id: 'corp',
      displayName: 'corp',
      redirectURI: 'https://app.example.com/auth/oidc/corp/callback',
      postLogoutRedirectURI: 'https://app.example.com/',
      scopes: ['openid', 'profile', 'email'],
      clientAuth: { method: 'client_secret_basic', secret: 'the-client-secret-value' },
      allowInsecureRequests: false,
      createUsers: true,
    });
    expect(Object.isFrozen(config.oidc.providers[0])).toBe(true);
  });

  it('reads the secret or the private key from a file', () => {
    writeFileSync(join(dir, 'secret.txt'), 'from-a-file\n');
    writeFileSync(join(dir, 'key.json'), '{"kty":"EC"}');
    const config = resolveConfig({
      ...base,
      oidc: {
        providers: [
          { id: 'a', issuer: 'https://a.example.com', clientId: 'x', clientSecretFile: join(dir, 'secret.txt') },
          { id: 'b', issuer: 'https://b.example.com', clientId: 'x', privateKeyFile: join(dir, 'key.json') },
        ],
      },
    });
    expect(config.oidc.providers.map((p) => p.clientAuth)).toEqual([
      { method: 'client_secret_basic', secret: 'from-a-file' },
      { method: 'private_key_jwt', privateKey: '{"kty":"EC"}' },
    ]);
  });

  it.each([
    ['no credential', { ...provider, clientSecret: undefined }, 'oidc.providers.0.clientSecret: set exactly one of'],
    ['two credentials', { ...provider, privateKeyFile: '/k.pem' }, 'oidc.providers.0.clientSecret: set exactly one of'],
    ['scopes without openid', { ...provider, scopes: ['email'] }, 'oidc.providers.0.scopes: must include "openid"'],
    ['a plain-http issuer elsewhere than loopback', { ...provider, issuer: 'http://idp.example.com' }, 'oidc.providers.0.issuer: is plain http'],
    ['an id that is no path segment', { ...provider, id: 'Corp/1' }, 'oidc.providers.0.id:'],
    ['an unknown field', { ...provider, clientSecert: 'typo' }, 'oidc.providers.0.clientSecert: unknown field'],
    ['a post-logout path to another origin', { ...provider, postLogoutRedirectPath: '//evil.example' }, 'oidc.providers.0.postLogoutRedirectPath:'],
    ['a missing secret file', { ...provider, clientSecret: undefined, clientSecretFile: '/nonexistent/secret' }, 'oidc.providers.0.clientSecretFile: cannot read'],
  ])('refuses %s, naming the field', (_name, entry, expected) => {
    const message = problemsOf({ providers: [entry as typeof provider] });
    expect(message).toContain(expected);
    expect(message).not.toContain('the-client-secret-value');
  });

  it('refuses two providers with one id', () => {
    expect(problemsOf({ providers: [provider, { ...provider }] })).toContain('oidc.providers.1.id: "corp" is used by another provider');
  });

  it('allows plain http to a loopback issuer (development) and marks it', () => {
    const config = resolveConfig({ ...base, oidc: { providers: [{ ...provider, issuer: 'http://127.0.0.1:9000' }] } });
    expect(config.oidc.providers[0]?.allowInsecureRequests).toBe(true);
  });
});

describe('oidc.loginApps', () => {
  const app = { id: 'portal', issuer: 'https://login.example.com', jwksUrl: 'https://login.example.com/jwks.json', allowedOrigins: ['https://login.example.com'] };

  it('resolves an app: audience defaults to the public origin, origins normalised', () => {
    const config = resolveConfig({ ...base, oidc: { loginApps: [{ ...app, allowedOrigins: ['https://LOGIN.example.com:443'] }] } });
    expect(config.oidc.loginApps[0]).toMatchObject({ audience: 'https://app.example.com', allowedOrigins: ['https://login.example.com'], maxLifetimeSeconds: 60, subject: 'linked' });
  });

  it.each([
    ['a lifetime over 60 s', { ...app, maxLifetimeSeconds: 120 }, 'oidc.loginApps.0.maxLifetimeSeconds:'],
    ['no allowed origin', { ...app, allowedOrigins: [] }, 'oidc.loginApps.0.allowedOrigins:'],
    ['an origin with a path', { ...app, allowedOrigins: ['https://login.example.com/app'] }, 'oidc.loginApps.0.allowedOrigins.0:'],
    ['a symmetric algorithm', { ...app, algorithms: ['HS256'] }, 'oidc.loginApps.0.algorithms.0:'],
    ['a plain-http JWKS elsewhere than loopback', { ...app, jwksUrl: 'http://login.example.com/jwks.json' }, 'oidc.loginApps.0.jwksUrl: is plain http'],
  ])('refuses %s, naming the field', (_name, entry, expected) => {
    expect(problemsOf({ loginApps: [entry as typeof app] })).toContain(expected);
  });
});

describe('openid-client is loaded only when a provider is configured', () => {
  const index = new URL('../../dist/index.js', import.meta.url).href;

  /** Module URLs a child process resolves while starting (and closing) Gatehouse with `oidc`. */
  async function resolvedModules(oidc: ConfigInput['oidc']): Promise<string> {
    const hooks = join(dir, 'hooks.mjs');
    writeFileSync(hooks, 'export async function resolve(s, c, next) { const r = await next(s, c); process.stdout.write(r.url + "\\n"); return r; }\n');
    const register = join(dir, 'register.mjs');
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const script = `
      const { createGatehouse, resolveConfig } = await import(${JSON.stringify(index)});
      const config = resolveConfig({ ...${JSON.stringify(base)}, logLevel: 'silent', oidc: ${JSON.stringify(oidc)} });
      const gatehouse = await createGatehouse({ config });
      await gatehouse.close();
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', pathToFileURL(register).href, '--input-type=module', '-e', script]);
    return stdout;
  }

  it('loads it with a provider (so the check can fail)', async () => {
    // Discovery waits for the first sign-in, so no provider needs to be reachable here.
    expect(await resolvedModules({ providers: [{ ...provider, issuer: 'http://127.0.0.1:9' }] })).toContain('/node_modules/openid-client/');
  });

  it('does not load it without one', async () => {
    expect(await resolvedModules({ providers: [] })).not.toContain('/node_modules/openid-client/');
  });
});
