/**
 * The browser leg of the native flow in Chromium: the "app" listens on a
 * loopback port of its own choosing (RFC 8252 §7.3), opens Gatehouse's
 * sign-in page, the user signs in, and the browser lands on the app's
 * loopback redirect with the code, which openid-client redeems.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, SKIP_BROWSER_TESTS } from '../../../../examples/demo/test/support/chromium.js';
import { ALICE, startOAuthServer, type OAuthTestServer } from './oauth-server.js';

describe.skipIf(SKIP_BROWSER_TESTS)('the native flow in Chromium', () => {
  let server: OAuthTestServer;
  let browser: Browser;
  let appListener: Server;
  let appPort: number;
  const received: string[] = [];

  beforeAll(async () => {
    server = await startOAuthServer();
    await server.addClient({ id: 'desktop-app', type: 'native', redirectURIs: ['http://127.0.0.1/callback'], scopes: ['profile'] });
    // The app's own loopback listener: it only collects the redirect.
    appListener = createServer((req, res) => {
      if (req.url?.startsWith('/callback?') === true) received.push(`http://127.0.0.1:${appPort}${req.url}`);
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Done</title><p>Signed in. Return to the app.</p>');
    });
    await new Promise<void>((resolve) => appListener.listen(0, '127.0.0.1', resolve));
    appPort = (appListener.address() as AddressInfo).port;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => appListener?.close(resolve));
    await server?.close();
  });

  it('signs in on Gatehouse\'s page and lands on the app\'s loopback port with a code the app redeems', async () => {
    const app = await oidc.discovery(new URL(server.origin), 'desktop-app', undefined, oidc.None(), { execute: [oidc.allowInsecureRequests], algorithm: 'oauth2' });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(app, {
      redirect_uri: `http://127.0.0.1:${appPort}/callback`,
      scope: 'profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const { page, context, problems } = await openPage(browser, server.origin);
    await page.goto(url.href);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    // The form's nonce cookie is host-only, Secure, HttpOnly and Strict.
    expect((await context.cookies(server.origin)).find((c) => c.name === '__Host-gh_oauth_request')).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict' });
    await page.getByLabel('Username').fill(ALICE.username);
    await page.getByLabel('Password').fill(ALICE.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.origin === `http://127.0.0.1:${appPort}`);
    await page.getByText('Signed in. Return to the app.').waitFor();
    // The CSP let the form post and its redirect through, and nothing else went wrong.
    expect(problems).toEqual([]);

    const callback = received.at(-1) ?? '';
    expect(new URL(callback).searchParams.get('state')).toBe(state);
    const tokens = await oidc.authorizationCodeGrant(app, new URL(callback), { pkceCodeVerifier: verifier, expectedState: state });
    const me = await fetch(`${server.origin}/api/private`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(await me.json()).toMatchObject({ user: ALICE.username });
  });
});
