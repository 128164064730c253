/**
 * `GET /.well-known/oauth-authorization-server` (RFC 8414): what standard
 * clients read to configure themselves. Lists exactly what is enabled.
 */
import { ASSERTION_ALGORITHMS } from './client-registry.js';
import { endpointURL, issuerOf, type OAuthDeps, type OAuthHandler } from './oauth-deps.js';
import { oauthJSON } from './oauth-error.js';

export function createMetadataEndpoint(deps: OAuthDeps): OAuthHandler {
  const { config } = deps;
  const clientAuth = ['client_secret_basic', 'private_key_jwt'];
  const metadata = Object.freeze({
    issuer: issuerOf(config),
    authorization_endpoint: endpointURL(config, '/oauth/authorize'),
    token_endpoint: endpointURL(config, '/oauth/token'),
    revocation_endpoint: endpointURL(config, '/oauth/revoke'),
    introspection_endpoint: endpointURL(config, '/oauth/introspect'),
    ...(config.signing.algorithm === 'HS256' ? {} : { jwks_uri: endpointURL(config, '/.well-known/jwks.json') }),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', ...clientAuth],
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    revocation_endpoint_auth_methods_supported: ['none', ...clientAuth],
    introspection_endpoint_auth_methods_supported: clientAuth,
    authorization_response_iss_parameter_supported: true,
    dpop_signing_alg_values_supported: [...deps.dpop.algorithms],
  });
  return async () => oauthJSON(200, metadata, { 'cache-control': 'public, max-age=300' });
}
