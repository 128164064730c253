// The partner CSRF token: the session CSRF token's HMAC scheme under a key of
// its own and a binding kind of its own, bound to the partner key and the
// partner's cookie. Checked here without HTTP; guard.test.ts does it over HTTP.
import { describe, expect, it } from 'vitest';
import { mintCSRFToken, verifyCSRFToken } from '../../src/core/csrf.js';
import { deriveKeyRing } from '../../src/core/keys.js';
import { PartnerCSRF } from '../../src/partners/partner-csrf.js';

const keys = deriveKeyRing('partner-csrf-unit-secret-0123456789-abcdefgh');
const csrf = new PartnerCSRF(keys.partnerCSRF, { secure: true });
const KEY_ID = '0123456789abcdef01234567';

/** Headers as a partner page sends them. */
const headers = (values: Record<string, string>) => ({ get: (name: string) => values[name] ?? null });

describe('partner CSRF tokens', () => {
  const { token, setCookie } = csrf.mint(KEY_ID, null);
  const cookie = setCookie?.split(';')[0] ?? '';
  const cookieValue = cookie.slice(cookie.indexOf('=') + 1);

  it('verify for the key and cookie they were minted for', () => {
    expect(csrf.verify(KEY_ID, headers({ cookie, 'x-gatehouse-partner-csrf': token }))).toBe(true);
  });

  it('do not verify for another key id, another cookie, or without the cookie', () => {
    expect(csrf.verify('f'.repeat(24), headers({ cookie, 'x-gatehouse-partner-csrf': token }))).toBe(false);
    const other = csrf.mint(KEY_ID, null).setCookie?.split(';')[0] ?? '';
    expect(csrf.verify(KEY_ID, headers({ cookie: other, 'x-gatehouse-partner-csrf': token }))).toBe(false);
    expect(csrf.verify(KEY_ID, headers({ 'x-gatehouse-partner-csrf': token }))).toBe(false);
  });

  it('never pass as session CSRF tokens: not under the session key, not for a session binding of the same id', () => {
    const binding = `${KEY_ID}\0${cookieValue}`;
    expect(verifyCSRFToken(keys.csrf, token, { kind: 'session', id: binding })).toBe(false);
    expect(verifyCSRFToken(keys.csrf, token, { kind: 'partner', id: binding })).toBe(false);
    expect(verifyCSRFToken(keys.partnerCSRF, token, { kind: 'session', id: binding })).toBe(false);
    expect(verifyCSRFToken(keys.partnerCSRF, token, { kind: 'partner', id: binding })).toBe(true); // the control
  });

  it('session CSRF tokens never pass as partner tokens, even minted for the very same binding string', () => {
    const binding = `${KEY_ID}\0${cookieValue}`;
    for (const forged of [
      mintCSRFToken(keys.csrf, { kind: 'session', id: binding }),
      mintCSRFToken(keys.csrf, { kind: 'partner', id: binding }),
      mintCSRFToken(keys.partnerCSRF, { kind: 'session', id: binding }),
    ]) {
      expect(csrf.verify(KEY_ID, headers({ cookie, 'x-gatehouse-partner-csrf': forged }))).toBe(false);
    }
  });

  it('keep the request\'s well-formed cookie and set a new one only when it has none (or a malformed one)', () => {
    expect(csrf.mint(KEY_ID, cookie).setCookie).toBeUndefined();
    expect(csrf.mint(KEY_ID, '__Host-gh_partner_csrf=not-a-cookie-value').setCookie).toMatch(/^__Host-gh_partner_csrf=/);
    expect(setCookie).toMatch(/; HttpOnly; Secure; SameSite=None; Partitioned$/);
  });
});
