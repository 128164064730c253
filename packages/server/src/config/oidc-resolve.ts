import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { z } from 'zod';
import type { oidcSchema } from './oidc-schema.js';

/** How Gatehouse authenticates to a provider's token endpoint. */
export type OIDCClientAuth =
  | { readonly method: 'client_secret_basic'; readonly secret: string }
  /** `privateKey`: the file's text, a private JWK (JSON) or a PKCS#8 PEM. */
  | { readonly method: 'private_key_jwt'; readonly privateKey: string };

/** One OpenID Connect provider, validated. */
export interface OIDCProviderConfig {
  readonly id: string;
  readonly displayName: string;
  readonly issuer: string;
  readonly clientId: string;
  /** Never logged. */
  readonly clientAuth: OIDCClientAuth;
  readonly scopes: readonly string[];
  readonly createUsers: boolean;
  /** Absolute URL on `publicOrigin`. */
  readonly postLogoutRedirectURI: string;
  /** `<publicOrigin>/auth/oidc/<id>/callback`: register this at the provider. */
  readonly redirectURI: string;
  /** Plain http to the provider: only for a loopback issuer, or with `allowInsecureHttp`. */
  readonly allowInsecureRequests: boolean;
}

/** A trusted separate login app, validated. */
export interface LoginAppConfig {
  readonly id: string;
  readonly issuer: string;
  readonly jwksURL: string;
  readonly audience: string;
  /** Normalised origins. */
  readonly allowedOrigins: readonly string[];
  readonly algorithms: readonly string[];
  readonly maxLifetimeSeconds: number;
  readonly subject: 'linked' | 'username';
  readonly createUsers: boolean;
}

export interface OIDCConfig {
  readonly providers: readonly OIDCProviderConfig[];
  readonly transactionTtlSeconds: number;
  readonly loginApps: readonly LoginAppConfig[];
}

type ParsedOIDC = z.output<typeof oidcSchema>;

export interface OIDCResolveContext {
  readonly publicOrigin: string;
  readonly allowInsecureHttp: boolean;
  readonly cwd: string;
  readonly isLoopbackHost: (hostname: string) => boolean;
  /** ` (from <source>)` for a field, or ''. */
  readonly fromWhere: (field: string) => string;
}

/**
 * Applies the rules the schema cannot express field by field: exactly one
 * client credential per provider, unique ids, `openid` among the scopes, https
 * except on loopback, and reads the secret and key files. Problems are pushed
 * onto `problems`, each naming its field.
 */
export function resolveOIDC(c: ParsedOIDC, ctx: OIDCResolveContext, problems: string[]): OIDCConfig {
  const providers: OIDCProviderConfig[] = [];
  const seen = new Set<string>();
  for (const [i, p] of c.providers.entries()) {
    const field = `oidc.providers.${i}`;
    const problem = (name: string, message: string) => problems.push(`${field}.${name}: ${message}${ctx.fromWhere(`${field}.${name}`)}`);
    if (seen.has(p.id)) problem('id', `"${p.id}" is used by another provider`);
    seen.add(p.id);
    if (!p.scopes.includes('openid')) problem('scopes', 'must include "openid"');
    const insecure = plainHttpProblem(p.issuer, ctx);
    if (insecure === 'refused') problem('issuer', 'is plain http on a non-local host; use https, or set allowInsecureHttp: true (never in production)');
    const credentials = [p.clientSecret, p.clientSecretFile, p.privateKeyFile].filter((v) => v !== undefined).length;
    let clientAuth: OIDCClientAuth | undefined;
    if (credentials !== 1) {
      problem('clientSecret', 'set exactly one of clientSecret, clientSecretFile or privateKeyFile');
    } else if (p.privateKeyFile !== undefined) {
      const text = readText(p.privateKeyFile, ctx.cwd);
      if (typeof text !== 'string') problem('privateKeyFile', `cannot read ${p.privateKeyFile} (${text.code})`);
      else clientAuth = { method: 'private_key_jwt', privateKey: text };
    } else if (p.clientSecretFile !== undefined) {
      const text = readText(p.clientSecretFile, ctx.cwd);
      if (typeof text !== 'string') problem('clientSecretFile', `cannot read ${p.clientSecretFile} (${text.code})`);
      else if (text.replace(/\r?\n$/, '') === '') problem('clientSecretFile', `${p.clientSecretFile} is empty`);
      else clientAuth = { method: 'client_secret_basic', secret: text.replace(/\r?\n$/, '') };
    } else if (p.clientSecret !== undefined) {
      clientAuth = { method: 'client_secret_basic', secret: p.clientSecret };
    }
    if (clientAuth === undefined) continue;
    providers.push({
      id: p.id,
      displayName: p.displayName ?? p.id,
      issuer: p.issuer,
      clientId: p.clientId,
      clientAuth,
      scopes: [...new Set(p.scopes)],
      createUsers: p.createUsers,
      postLogoutRedirectURI: new URL(p.postLogoutRedirectPath, ctx.publicOrigin).href,
      redirectURI: new URL(`/auth/oidc/${p.id}/callback`, ctx.publicOrigin).href,
      allowInsecureRequests: insecure !== 'https',
    });
  }

  const loginApps: LoginAppConfig[] = [];
  const seenApps = new Set<string>();
  for (const [i, app] of c.loginApps.entries()) {
    const field = `oidc.loginApps.${i}`;
    const problem = (name: string, message: string) => problems.push(`${field}.${name}: ${message}${ctx.fromWhere(`${field}.${name}`)}`);
    if (seenApps.has(app.id)) problem('id', `"${app.id}" is used by another login app`);
    seenApps.add(app.id);
    if (plainHttpProblem(app.jwksUrl, ctx) === 'refused') problem('jwksUrl', 'is plain http on a non-local host; use https');
    const origins: string[] = [];
    for (const [j, value] of app.allowedOrigins.entries()) {
      const normalised = normaliseOrigin(value);
      if (normalised === null) problem(`allowedOrigins.${j}`, `"${value}" is not an origin such as https://login.example.com`);
      else if (plainHttpProblem(normalised, ctx) === 'refused') problem(`allowedOrigins.${j}`, 'is plain http on a non-local host; use https');
      else origins.push(normalised);
    }
    loginApps.push({
      id: app.id,
      issuer: app.issuer,
      jwksURL: app.jwksUrl,
      audience: app.audience ?? ctx.publicOrigin,
      allowedOrigins: origins,
      algorithms: [...new Set(app.algorithms)],
      maxLifetimeSeconds: app.maxLifetimeSeconds,
      subject: app.subject,
      createUsers: app.createUsers,
    });
  }
  return { providers, transactionTtlSeconds: c.transactionTtlSeconds, loginApps };
}

/** `https`, `loopback` (plain http to this machine), `allowed` (plain http, allowed by the flag) or `refused`. */
function plainHttpProblem(value: string, ctx: OIDCResolveContext): 'https' | 'loopback' | 'allowed' | 'refused' {
  const url = new URL(value);
  if (url.protocol === 'https:') return 'https';
  if (ctx.isLoopbackHost(url.hostname)) return 'loopback';
  return ctx.allowInsecureHttp ? 'allowed' : 'refused';
}

function normaliseOrigin(value: string): string | null {
  try {
    const url = new URL(value);
    const bare = (url.pathname === '/' || url.pathname === '') && !url.search && !url.hash && !url.username && !url.password;
    return bare && (url.protocol === 'https:' || url.protocol === 'http:') ? url.origin : null;
  } catch {
    return null;
  }
}

function readText(path: string, cwd: string): string | { code: string } {
  try {
    return readFileSync(resolvePath(cwd, path), 'utf8');
  } catch (error) {
    return { code: (error as NodeJS.ErrnoException).code ?? 'unreadable' };
  }
}
