/**
 * DPoP-bound access tokens for the guard tests, until the token endpoint
 * issues them: a real session (alice's login) and an access token for it
 * minted by Gatehouse's own `AccessTokenService`, with the same key, issuer
 * and audience as the running instance, bound to a key by `cnf.jkt`.
 */
import { calculateThumbprint, type KeyPair } from 'dpop';
import { AccessTokenService } from '../../src/core/access-token.js';
import type { Clock } from '../../src/core/clock.js';
import { deriveKeyRing } from '../../src/core/keys.js';
import type { Gatehouse } from '../../src/gatehouse.js';
import { ALICE, TEST_SECRET } from '../support/test-server.js';

export interface BoundSession {
  readonly sessionId: string;
  /** An ordinary (unbound) access token of the same session. */
  readonly bearer: string;
  /** An access token of the same session bound to `keys`. */
  readonly bound: string;
  readonly jkt: string;
}

/** Signs alice in on `gatehouse` (its secret TEST_SECRET) and mints a token of that session bound to `keys`. */
export async function boundSession(gatehouse: Gatehouse, keys: KeyPair, clock: Clock): Promise<BoundSession> {
  const issued = await gatehouse.auth.login({ ...ALICE }, { ip: '127.0.0.1', userAgent: 'dpop-test' });
  const jkt = await calculateThumbprint(keys.publicKey);
  // The instance's own keys: its asymmetric signing keys, or the HS256 key derived from the secret.
  const tokens = new AccessTokenService(gatehouse.signingKeys ?? deriveKeyRing(TEST_SECRET).accessToken, gatehouse.config.accessToken, clock);
  const { token } = await tokens.issue({ userId: issued.user.id, username: issued.user.username, roles: issued.user.roles, sessionId: issued.session.id, jkt });
  return { sessionId: issued.session.id, bearer: issued.accessToken, bound: token, jkt };
}
