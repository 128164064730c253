/**
 * The Demo IdP's own login and consent pages: plain HTML forms, no script,
 * under a CSP of their own. Every value from a request is escaped.
 */

/** The stylesheet the pages link to (served by the IdP at {@link IDP_STYLESHEET_PATH}). */
export const IDP_STYLESHEET_PATH = '/demo-idp.css';

export const IDP_STYLESHEET = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: #eef1f6; color: #1d2330; }
main { width: min(24rem, 92vw); background: #fff; border-radius: 12px; padding: 1.75rem; box-shadow: 0 2px 12px rgb(0 0 0 / 0.12); }
.idp { margin: 0 0 1rem; font-size: 0.85rem; letter-spacing: 0.04em; text-transform: uppercase; color: #7a3e9d; font-weight: 700; }
h1 { margin: 0 0 1rem; font-size: 1.4rem; }
label { display: block; margin: 0.75rem 0 0.25rem; font-weight: 600; }
input { width: 100%; box-sizing: border-box; padding: 0.55rem 0.6rem; font: inherit; border: 1px solid #aab; border-radius: 6px; }
button { margin-top: 1.1rem; width: 100%; padding: 0.6rem; font: inherit; font-weight: 600; border: 0; border-radius: 6px; background: #7a3e9d; color: #fff; cursor: pointer; }
button.secondary { background: transparent; color: #7a3e9d; border: 1px solid #7a3e9d; }
.error { color: #b00020; font-weight: 600; }
.hint { color: #556; font-size: 0.9rem; }
ul { padding-left: 1.2rem; }
@media (prefers-color-scheme: dark) {
  body { background: #141821; color: #e6e9f0; }
  main { background: #1f2430; }
  input { background: #141821; color: inherit; border-color: #556; }
  .idp { color: #c79be6; }
  button.secondary { color: #c79be6; border-color: #c79be6; }
  .hint { color: #aab; }
}
`;

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHTML(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

/**
 * The pages' CSP. `form-action` covers the redirects that follow a submitted
 * form too (Chromium enforces it on each hop): the IdP itself, then the
 * relying party's callback.
 */
export function idpPageCSP(relyingPartyOrigin: string): string {
  return `default-src 'none'; style-src 'self'; img-src data:; form-action 'self' ${relyingPartyOrigin}; frame-ancestors 'none'; base-uri 'none'`;
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHTML(title)} · Demo IdP</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${IDP_STYLESHEET_PATH}">
</head>
<body>
<main>
<p class="idp">Demo IdP</p>
${body}
</main>
</body>
</html>`;
}

/** The login form; `error` after a failed attempt, `username` kept for the next one. */
export function loginPage(options: { readonly uid: string; readonly clientName: string; readonly username?: string; readonly error?: string }): string {
  const uid = encodeURIComponent(options.uid);
  const error = options.error === undefined ? '' : `<p class="error" role="alert">${escapeHTML(options.error)}</p>`;
  return page(
    'Sign in',
    `<h1>Sign in to continue to ${escapeHTML(options.clientName)}</h1>
${error}
<form method="post" action="/interaction/${uid}/login" autocomplete="on">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${escapeHTML(options.username ?? '')}"${options.username === undefined ? ' autofocus' : ''}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${options.username === undefined ? '' : ' autofocus'}>
<button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit" class="secondary">Cancel</button></form>
<p class="hint">This is the demo's own identity provider, on its own origin. <code>npm start</code> prints its account.</p>`,
  );
}

/** The consent form: what the relying party will learn. */
export function consentPage(options: { readonly uid: string; readonly clientName: string; readonly username: string }): string {
  const uid = encodeURIComponent(options.uid);
  return page(
    'Allow access',
    `<h1>${escapeHTML(options.clientName)} wants to know who you are</h1>
<p>Signed in at the Demo IdP as <strong>${escapeHTML(options.username)}</strong>. Continuing shares:</p>
<ul><li>your user id at the Demo IdP</li><li>your username and name</li><li>your e-mail address</li></ul>
<form method="post" action="/interaction/${uid}/consent"><button type="submit">Continue</button></form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit" class="secondary">Cancel</button></form>`,
  );
}

/**
 * RP-initiated logout: "sign out of the Demo IdP too?". `form` is the
 * provider's own (empty) form with its anti-forgery field; the buttons submit it.
 */
export function logoutPage(form: string): string {
  return page(
    'Sign out',
    `<h1>Sign out of the Demo IdP too?</h1>
<p>You signed out of the Gatehouse demo. Signing out here as well means the next "Sign in with Demo IdP" asks for your password again.</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="secondary">No, stay signed in here</button>`,
  );
}

/** The provider's error page (an unknown client, an expired request, …): the error's code and description, escaped. */
export function errorPage(error: string, description: string | undefined): string {
  return page(
    'Error',
    `<h1>Something went wrong</h1>
<p class="error" role="alert">${escapeHTML(error)}${description === undefined ? '' : `: ${escapeHTML(description)}`}</p>
<p class="hint">Go back to the demo and start again.</p>`,
  );
}
