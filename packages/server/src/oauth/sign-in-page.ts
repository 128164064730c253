/**
 * Gatehouse's own sign-in page for native apps: a small server-rendered form
 * with a CSP that allows no script, no style from elsewhere and no framing,
 * and posts only to itself (and redirects only to the app's redirect URI).
 */
import { SECURITY_HEADERS } from '../http/responses.js';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe inside HTML content and double-quoted attributes. */
export function escapeHTML(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/**
 * The CSP source that lets the form's answer redirect to `redirectURI`
 * (`form-action` also governs redirects after a submission): its origin for
 * http(s), its scheme for a private-use scheme.
 */
function redirectSource(redirectURI: string): string {
  const url = new URL(redirectURI);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol;
}

/** Headers of every HTML answer of the authorize endpoint. */
export function pageHeaders(redirectURI: string | null): Headers {
  const headers = new Headers(SECURITY_HEADERS);
  const formAction = redirectURI === null ? "'self'" : `'self' ${redirectSource(redirectURI)}`;
  headers.set('content-security-policy', `default-src 'none'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`);
  headers.set('cache-control', 'no-store');
  headers.set('content-type', 'text/html; charset=utf-8');
  return headers;
}

/** The sign-in form for `clientId`, carrying the sealed request; `problem` is shown above it. */
export function signInPage(options: { readonly clientId: string; readonly sealedRequest: string; readonly problem: string | null; readonly username: string }): string {
  const problem = options.problem === null ? '' : `<p role="alert">${escapeHTML(options.problem)}</p>`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in</title></head>
<body>
<main>
<h1>Sign in</h1>
<p>The app <strong>${escapeHTML(options.clientId)}</strong> asks to use your account.</p>
${problem}
<form method="post" action="/oauth/authorize">
<input type="hidden" name="request" value="${escapeHTML(options.sealedRequest)}">
<p><label>Username <input name="username" autocomplete="username" required value="${escapeHTML(options.username)}"></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button type="submit" name="action" value="allow">Sign in</button></p>
</form>
<form method="post" action="/oauth/authorize">
<input type="hidden" name="request" value="${escapeHTML(options.sealedRequest)}">
<p><button type="submit" name="action" value="deny">Cancel</button></p>
</form>
</main>
</body>
</html>
`;
}

/** A page that explains a request that cannot go back to the app. */
export function errorPage(message: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign-in error</title></head>
<body><main><h1>This sign-in link is not valid</h1><p>${escapeHTML(message)}</p></main></body>
</html>
`;
}
