/**
 * Gatehouse with OpenID providers configured against a real `oidc-provider`
 * on loopback, over real HTTP, with a real SQLite file; and a scripted user
 * agent that signs in at the provider's own login and consent pages.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from '../../../src/config/resolve.js';
import type { ConfigInput } from '../../../src/config/schema.js';
import { ManualClock } from '../../../src/core/clock.js';
import { createLogger } from '../../../src/core/logger.js';
import { createGatehouse, type Gatehouse } from '../../../src/gatehouse.js';
import { createNodeServer, nodeGuard, sendJSON } from '../../../src/http/node.js';
import { TestBrowser } from '../../support/test-browser.js';
import { startTestProvider, type TestProvider } from './test-provider.js';

/** The built browser SDK; `npm run build` makes it. */
const SDK_DIST = fileURLToPath(new URL('../../../../client/dist/', import.meta.url));

/**
 * A minimal SPA on the SDK: "Sign in with …" buttons from providers(), and
 * once signed in, the user, an API call's answer, and "Sign out everywhere".
 */
const SPA_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Test SPA</title></head>
<body>
<p id="status">loading</p><div id="actions"></div><pre id="api"></pre>
<script type="module">
import { createAuthClient } from '/sdk/index.js';
const auth = createAuthClient();
const status = document.getElementById('status');
const actions = document.getElementById('actions');
const button = (label, onclick) => { const b = document.createElement('button'); b.textContent = label; b.onclick = onclick; actions.append(b); };
try {
  const user = await auth.getUser();
  const answer = await auth.fetch('/api/whoami').then((r) => r.json());
  document.getElementById('api').textContent = JSON.stringify(answer.auth.user);
  button('Sign out everywhere', () => auth.logout({ atProvider: true }));
  status.textContent = 'signed in as ' + user.username;
} catch {
  for (const provider of await auth.providers()) button('Sign in with ' + provider.displayName, () => auth.login({ provider: provider.id, returnTo: '/' }));
  status.textContent = 'signed out';
}
</script>
</body></html>`;

export const SECRET = 'oidc-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
export const ALICE = { username: 'alice', password: 'correct horse battery staple' } as const;

export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface OIDCTestServer {
  readonly gatehouse: Gatehouse;
  readonly provider: TestProvider;
  /** The wall clock (providers sign with real time), held still unless a test moves it. */
  readonly clock: ManualClock;
  /** `http://localhost:<port>`: the public origin, and what browsers send as Origin. */
  readonly origin: string;
  /** `http://127.0.0.1:<port>`: where tests connect. */
  readonly baseURL: string;
  browser(options?: { origin?: string | null }): TestBrowser;
  close(): Promise<void>;
}

/**
 * Providers `demo` (client secret) and `corp` (private_key_jwt) at one test
 * provider, user alice with a password, and a guarded `GET /api/whoami`.
 * `config` is merged over that (for login apps, say).
 */
export async function startOIDCServer(options: { config?: ConfigInput; provider?: TestProvider } = {}): Promise<OIDCTestServer> {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const provider = options.provider ?? (await startTestProvider({ gatehouseOrigin: origin }));
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-oidc-'));
  const keyFile = join(dataDir, 'client-key.json');
  await writeFile(keyFile, JSON.stringify(provider.clients.privateKeyJWT.privateKey));
  const clock = new ManualClock(Date.now());
  const config = resolveConfig({
    secret: SECRET,
    dataDir,
    publicOrigin: origin,
    logLevel: 'silent',
    ...options.config,
    oidc: {
      providers: [
        { id: 'demo', displayName: 'Demo IdP', issuer: provider.issuer, clientId: provider.clients.secret.id, clientSecret: provider.clients.secret.secret },
        { id: 'corp', issuer: provider.issuer, clientId: provider.clients.privateKeyJWT.id, privateKeyFile: keyFile, postLogoutRedirectPath: '/signed-out' },
      ],
      ...options.config?.oidc,
    },
  });
  const gatehouse = await createGatehouse({ config, clock, logger: createLogger('silent'), revocationSyncIntervalMs: 50 });
  await gatehouse.auth.createUser({ ...ALICE, roles: ['user'] });
  const requireUser = nodeGuard(gatehouse);
  const server = createNodeServer(gatehouse, {
    async fallback(req, res) {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/api/whoami') {
        const auth = await requireUser(req, res);
        if (auth === undefined) return;
        req.resume();
        return sendJSON(res, 200, { auth });
      }
      if (path === '/' || path === '/signed-out') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(SPA_PAGE);
        return;
      }
      if (path.startsWith('/sdk/') && /^[a-z-]+\.js$/.test(basename(path))) {
        // The browser SDK as built (packages/client/dist), loaded by the page as ES modules.
        const file = await readFile(join(SDK_DIST, basename(path))).catch(() => null);
        if (file !== null) {
          res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(file);
          return;
        }
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const baseURL = `http://127.0.0.1:${port}`;
  return {
    gatehouse,
    provider,
    clock,
    origin,
    baseURL,
    browser: (browserOptions) => new TestBrowser(baseURL, browserOptions?.origin === undefined ? origin : browserOptions.origin),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await gatehouse.close();
      if (options.provider === undefined) await provider.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A user at the provider: follows its redirects, fills its login form (any
 * name, any password) and its consent form, until the provider sends the
 * browser back to Gatehouse. Returns that callback URL (not followed).
 * Keeps the provider's cookies, so a second sign-in reuses its session.
 */
export class ProviderUser {
  readonly #cookies = new Map<string, string>();

  constructor(readonly login: string) {}

  /** Follows the provider from `authorizationURL` until it sends the browser back to Gatehouse. */
  signIn(authorizationURL: string, gatehouseOrigin: string): Promise<URL> {
    return this.#browse(authorizationURL, gatehouseOrigin);
  }

  /** Declines at the provider's login page (its "cancel" link) and follows it back to Gatehouse. */
  async decline(authorizationURL: string, gatehouseOrigin: string): Promise<URL> {
    const response = await fetch(authorizationURL, { redirect: 'manual' });
    const interaction = new URL(response.headers.get('location') ?? '', authorizationURL);
    for (const header of response.headers.getSetCookie()) {
      const [pair = ''] = header.split(';');
      this.#cookies.set(pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1).trim());
    }
    return this.#browse(`${interaction.href}/abort`, gatehouseOrigin);
  }

  /** Signs out at the provider (its end-session page, confirming "yes") and follows it back to Gatehouse. */
  signOut(endSessionURL: string, gatehouseOrigin: string): Promise<URL> {
    return this.#browse(endSessionURL, gatehouseOrigin);
  }

  async #browse(start: string, gatehouseOrigin: string): Promise<URL> {
    let url = start;
    let method = 'GET';
    let body: URLSearchParams | undefined;
    for (let step = 0; step < 12; step++) {
      const response = await fetch(url, {
        method,
        redirect: 'manual',
        headers: { cookie: [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; '), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        ...(body ? { body: body.toString() } : {}),
      });
      for (const header of response.headers.getSetCookie()) {
        const [pair = ''] = header.split(';');
        const eq = pair.indexOf('=');
        const name = pair.slice(0, eq).trim();
        const value = pair.slice(eq + 1).trim();
        if (/max-age=0|expires=thu, 01 jan 1970/i.test(header) || value === '') this.#cookies.delete(name);
        else this.#cookies.set(name, value);
      }
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location !== null) {
        const next = new URL(location, url);
        if (next.origin === gatehouseOrigin) return next;
        url = next.href;
        method = 'GET';
        body = undefined;
        continue;
      }
      const html = await response.text();
      const form = /<form([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
      const action = /action="([^"]+)"/i.exec(form?.[1] ?? '')?.[1];
      if (response.status !== 200 || form === null || action === undefined) throw new Error(`provider answered ${response.status} without a form at ${url}: ${html.slice(0, 300)}`);
      const fields = new URLSearchParams();
      for (const input of (form[2] ?? '').matchAll(/<input[^>]*name="([^"]+)"(?:[^>]*value="([^"]*)")?[^>]*>/gi)) fields.set(input[1] ?? '', input[2] ?? '');
      if (fields.get('prompt') === 'login') {
        fields.set('login', this.login);
        fields.set('password', 'any password');
      }
      // The logout confirmation page: press "Yes, sign me out".
      if (/name="logout"/.test(html)) fields.set('logout', 'yes');
      url = new URL(action.replaceAll('&amp;', '&'), url).href;
      method = 'POST';
      body = fields;
    }
    throw new Error('the provider never sent the browser back');
  }
}

/** Starts a sign-in with `provider` in `browser`: the authorization URL, and the transaction cookie now in its jar. */
export async function startLogin(browser: TestBrowser, provider: string, returnTo?: string): Promise<string> {
  const response = await browser.get(`/auth/oidc/${provider}/login${returnTo === undefined ? '' : `?returnTo=${encodeURIComponent(returnTo)}`}`);
  if (response.status !== 302) throw new Error(`login answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.headers.get('location') ?? '';
}

/** Presents a callback URL (from the provider) to Gatehouse in `browser`, as the redirect would. */
export function presentCallback(browser: TestBrowser, callback: URL) {
  return browser.get(`${callback.pathname}${callback.search}`);
}

/** A full sign-in through `provider` as provider user `login`; the browser ends up with a Gatehouse session. */
export async function signInWith(server: OIDCTestServer, browser: TestBrowser, provider: string, user: ProviderUser, returnTo?: string) {
  const authorizationURL = await startLogin(browser, provider, returnTo);
  const callback = await user.signIn(authorizationURL, server.origin);
  return presentCallback(browser, callback);
}
