import type { GatewayRoute } from '../config/resolve.js';
import { GatehouseError } from '../core/errors.js';
import type { Auth } from '../http/guard.js';
import type { IdentityTokens } from './identity-token.js';

/**
 * Where a route with `forward: "provider-token"` gets what it sends upstream:
 * the access token of the OpenID provider the user signed in with, kept and
 * refreshed on the server. The OpenID Connect module implements it
 * (`gatehouse.providerTokens`, which `createGateway` uses by default); the
 * gateway only asks.
 */
export interface ProviderTokenSource {
  /**
   * The `Authorization` value for the upstream (`Bearer …`). Rejects with a
   * `GatehouseError` (401 `UNAUTHENTICATED`, or 503) when the session holds no
   * usable provider token: the request is then refused, never sent bare.
   */
  authorization(auth: Auth, route: GatewayRoute): Promise<string>;
}

/**
 * The `Authorization` value for an upstream request: undefined when there is
 * nothing to send (an anonymous caller), the value itself when it is at hand
 * (a cached identity token), else a Promise of it. May throw.
 */
export type CredentialResolver = (auth: Auth | null) => string | Promise<string> | undefined;

/**
 * How a route turns the caller's verified identity into upstream credentials.
 * Throws `CONFIG_INVALID` at start when the route needs a source that is not there.
 */
export function credentialResolver(
  route: GatewayRoute,
  index: number,
  sources: { readonly identities: IdentityTokens | null; readonly providerTokens: ProviderTokenSource | undefined },
): CredentialResolver {
  if (route.forward === 'provider-token') {
    const source = sources.providerTokens;
    if (source === undefined) {
      throw new GatehouseError('CONFIG_INVALID', {
        message: `Invalid configuration:\n  - gateway.routes.${index}.forward: "provider-token" needs an OpenID Connect provider, and none is configured`,
      });
    }
    return (auth) => (auth === null ? undefined : source.authorization(auth, route));
  }
  const { identities } = sources;
  if (identities === null) {
    // resolveConfig refuses this combination already; this keeps the library path just as strict.
    throw new GatehouseError('CONFIG_INVALID', {
      message: `Invalid configuration:\n  - gateway.routes.${index}.forward: "identity" needs an asymmetric signing.algorithm (EdDSA, ES256 or RS256)`,
    });
  }
  const { audience } = route;
  return (auth) => (auth === null ? undefined : identities.authorization(auth, audience));
}
