import { z } from 'zod';

/**
 * The `oauth` section: Gatehouse as an OAuth 2.0 authorization server for
 * native apps (RFC 8252) and machine clients (client credentials). Off by
 * default; clients are registered with `gatehouse client add`.
 */
export const oauthSchema = z
  .object({
    /** Serve /oauth/authorize, /oauth/token, /oauth/revoke, /oauth/introspect and the server metadata. */
    enabled: z.boolean().default(false),
    /** How long an authorization code may be redeemed. */
    codeTtlSeconds: z.number().int().min(10).max(600).default(60),
    /** Lifetime of a machine client's access token. */
    clientTokenTtlSeconds: z.number().int().min(60).max(86_400).default(600),
    /** The `aud` of machine clients' tokens. Default: accessToken.audience. */
    clientTokenAudience: z.string().min(1).optional(),
  })
  .strict()
  .default({ enabled: false, codeTtlSeconds: 60, clientTokenTtlSeconds: 600 });

/** The `oauth` section after validation. */
export interface OAuthConfig {
  readonly enabled: boolean;
  readonly codeTtlSeconds: number;
  readonly clientTokenTtlSeconds: number;
  readonly clientTokenAudience: string;
}
