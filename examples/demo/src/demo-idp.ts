/**
 * The demo's own OpenID provider ("Demo IdP"): panva's certified
 * `oidc-provider` on a loopback port of its own (another site than the demo,
 * as a corporate IdP would be), with one account, its own login and consent
 * pages, and Gatehouse registered as a confidential client. Loaded only by
 * the demo (`import()` in demo-app.ts); @gatehouse/server never loads it.
 */
import { createHash, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type Provider from 'oidc-provider';
import { consentPage, errorPage, IDP_STYLESHEET, IDP_STYLESHEET_PATH, idpPageCSP, loginPage, logoutPage } from './demo-idp-pages.js';

/** Gatehouse's provider id for the Demo IdP (`/auth/oidc/demo-idp/…`). */
export const DEMO_IDP_ID = 'demo-idp';
const CLIENT_ID = 'gatehouse-demo';
const CLIENT_NAME = 'the Gatehouse demo';
/** The one account's stable subject: Gatehouse links the account it creates to (issuer, this). */
const ACCOUNT_SUB = 'demo-idp-user-1';

/** What the Demo IdP keeps in the data directory (owner-readable only), so restarts keep its keys and account. */
interface IdPState {
  readonly username: string;
  readonly password: string;
  readonly clientSecret: string;
  readonly cookieKey: string;
  readonly signingKey: Record<string, unknown>;
}

/** The part of oidc-provider's (Koa) request context that rendering a page needs. */
interface KoaContext {
  set(name: string, value: string): void;
  type: string;
  body: unknown;
}

export interface DemoIdP {
  /** `http://127.0.0.1:<port>`: the issuer Gatehouse is configured with. */
  readonly issuer: string;
  readonly credentials: { readonly username: string; readonly password: string };
  /** The Gatehouse provider entry (`oidc.providers[]`) for this IdP. */
  readonly providerConfig: Readonly<Record<string, unknown>>;
  close(): Promise<void>;
}

function loadState(dataDir: string): IdPState {
  const path = join(dataDir, 'demo-idp.json');
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as IdPState;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const state: IdPState = {
    username: 'ada',
    password: randomBytes(12).toString('base64url'),
    clientSecret: randomBytes(32).toString('base64url'),
    cookieKey: randomBytes(32).toString('base64url'),
    signingKey: { ...privateKey.export({ format: 'jwk' }), kid: 'demo-idp-key-1', alg: 'RS256', use: 'sig' },
  };
  writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  return state;
}

/**
 * oidc-provider warns on the console about two things the demo chose: its
 * in-memory storage (the demo IdP keeps nothing across restarts but its keys
 * and account) and Node 20, which Gatehouse supports. Only those two are
 * dropped, so the start-up banner stays readable; any other warning shows.
 */
const EXPECTED_WARNINGS = ['Unsupported runtime', 'development-only in-memory adapter'];

async function withoutExpectedWarnings<T>(work: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    const text = String(args[0]);
    if (text.includes('oidc-provider WARNING') && EXPECTED_WARNINGS.some((expected) => text.includes(expected))) return;
    warn(...args);
  };
  try {
    return await work();
  } finally {
    console.warn = warn;
  }
}

/** Compares two strings in constant time (over their digests, so lengths leak nothing either). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

async function listenOn(server: Server, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > 4096) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

function html(res: ServerResponse, status: number, body: string, csp: string): void {
  res
    .writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': csp, 'x-frame-options': 'DENY' })
    .end(body);
}

/**
 * Starts the Demo IdP on `preferredPort` (another free port if that one is
 * taken; 0 for any), for a Gatehouse at `gatehouseOrigin`.
 */
export async function startDemoIdP(options: { readonly dataDir: string; readonly gatehouseOrigin: string; readonly preferredPort: number }): Promise<DemoIdP> {
  const state = loadState(options.dataDir);
  const server = createServer();
  try {
    await listenOn(server, options.preferredPort);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || options.preferredPort === 0) throw error;
    await listenOn(server, 0);
  }
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const account = { sub: ACCOUNT_SUB, preferred_username: state.username, name: 'Ada Lovelace', email: `${state.username}@demo-idp.localhost`, email_verified: true };

  const csp = idpPageCSP(options.gatehouseOrigin);
  /** Renders one of the IdP's pages from inside the provider (its logout and error pages). */
  const render = (ctx: KoaContext, body: string) => {
    ctx.set('content-security-policy', csp);
    ctx.type = 'html';
    ctx.body = body;
  };

  const provider = await withoutExpectedWarnings(async () => {
    const { default: OIDCProvider } = await import('oidc-provider');
    return new OIDCProvider(issuer, {
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: state.clientSecret,
          client_name: CLIENT_NAME,
          token_endpoint_auth_method: 'client_secret_basic',
          redirect_uris: [`${options.gatehouseOrigin}/auth/oidc/${DEMO_IDP_ID}/callback`],
          post_logout_redirect_uris: [`${options.gatehouseOrigin}/`],
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
      jwks: { keys: [state.signingKey] },
      cookies: { keys: [state.cookieKey] },
      features: {
        devInteractions: { enabled: false },
        rpInitiatedLogout: { enabled: true, logoutSource: async (ctx: KoaContext, form: string) => render(ctx, logoutPage(form)) },
      },
      renderError: async (ctx: KoaContext, out: { error: string; error_description?: string }) => render(ctx, errorPage(out.error, out.error_description)),
      interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['preferred_username', 'name'] },
      // Profile and e-mail claims in the ID token itself, as many providers send them.
      conformIdTokenClaims: false,
      pkce: { required: () => true },
      // Fixed lifetimes (the provider's defaults are functions that print a notice when called).
      ttl: { AccessToken: 3600, IdToken: 3600, AuthorizationCode: 60, Interaction: 600, Session: 86400, Grant: 86400 },
      async findAccount(_ctx: unknown, id: string) {
        return id === ACCOUNT_SUB ? { accountId: id, claims: async () => account } : undefined;
      },
    });
  });
  const providerHandler = provider.callback();

  async function interaction(req: IncomingMessage, res: ServerResponse, action: string): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    const uid = details.uid;
    if (req.method === 'GET' && action === '') {
      if (details.prompt.name === 'login') return html(res, 200, loginPage({ uid, clientName: CLIENT_NAME }), csp);
      return html(res, 200, consentPage({ uid, clientName: CLIENT_NAME, username: state.username }), csp);
    }
    if (req.method !== 'POST') return html(res, 405, 'Method not allowed', csp);
    if (action === 'abort') {
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user cancelled.' }, { mergeWithLastSubmission: false });
    }
    if (action === 'login' && details.prompt.name === 'login') {
      const form = await readForm(req);
      const username = form.get('username') ?? '';
      // Both checks run, so a wrong username takes as long as a wrong password.
      const ok = sameSecret(username, state.username) && sameSecret(form.get('password') ?? '', state.password);
      if (!ok) return html(res, 401, loginPage({ uid, clientName: CLIENT_NAME, username, error: 'Wrong username or password.' }), csp);
      return provider.interactionFinished(req, res, { login: { accountId: ACCOUNT_SUB } }, { mergeWithLastSubmission: false });
    }
    if (action === 'consent' && details.prompt.name === 'consent' && details.session !== undefined) {
      const grant =
        (details.grantId === undefined ? undefined : await provider.Grant.find(details.grantId)) ??
        new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      const missingScope = details.prompt.details['missingOIDCScope'];
      const missingClaims = details.prompt.details['missingOIDCClaims'];
      if (Array.isArray(missingScope)) grant.addOIDCScope(missingScope.join(' '));
      if (Array.isArray(missingClaims)) grant.addOIDCClaims(missingClaims as string[]);
      const grantId = await grant.save();
      return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    return html(res, 400, 'This sign-in step is not expected now. Start again from the demo.', csp);
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    if (path === IDP_STYLESHEET_PATH) {
      res.writeHead(200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'no-cache' }).end(IDP_STYLESHEET);
      return;
    }
    const match = /^\/interaction\/([\w-]+)(?:\/(login|consent|abort))?$/.exec(path);
    if (match === null) return providerHandler(req, res);
    interaction(req, res, match[2] ?? '').catch(() => {
      // An expired or unknown interaction (its cookie is gone): the flow must start again from the demo.
      if (!res.headersSent) html(res, 400, 'This sign-in has expired. Start again from the demo.', csp);
    });
  });

  return {
    issuer,
    credentials: { username: state.username, password: state.password },
    providerConfig: { id: DEMO_IDP_ID, displayName: 'Demo IdP', issuer, clientId: CLIENT_ID, clientSecret: state.clientSecret },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
