import { z } from 'zod';

/**
 * The `dpop` section: how DPoP proofs (RFC 9449) are judged, at the token
 * endpoint and by the guard on requests carrying a DPoP-bound access token.
 */

/** Every algorithm a proof may be signed with: asymmetric only (never `none`, never HMAC). */
export const DPOP_ALGORITHMS = ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'] as const;
export type DPoPAlgorithm = (typeof DPOP_ALGORITHMS)[number];

export const dpopSchema = z
  .object({
    /** The algorithms accepted in a proof's `alg`, a subset of ES256, EdDSA, Ed25519, PS256, RS256. */
    algorithms: z.array(z.enum(DPOP_ALGORITHMS)).min(1).default([...DPOP_ALGORITHMS]),
    /** How far a proof's `iat` may be from the server's clock, either way; a proof's `jti` is remembered this long. */
    proofWindowSeconds: z.number().int().min(5).max(600).default(60),
    /** Require the server's nonce (`DPoP-Nonce`) in every proof. */
    requireNonce: z.boolean().default(false),
    /** How long one nonce serves; a nonce is accepted in its own period and the next. */
    nonceLifetimeSeconds: z.number().int().min(10).max(3600).default(300),
    /**
     * The origins (scheme, host, port) requests carrying proofs are sent to, so
     * `htu` is compared with this origin and the request's path, never with the
     * `Host` header. Default: publicOrigin.
     */
    origins: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict()
  .default({ algorithms: [...DPOP_ALGORITHMS], proofWindowSeconds: 60, requireNonce: false, nonceLifetimeSeconds: 300 });

export type ParsedDPoP = z.output<typeof dpopSchema>;

/** The `dpop` section after validation. */
export interface DPoPConfig {
  readonly algorithms: readonly DPoPAlgorithm[];
  readonly proofWindowSeconds: number;
  readonly requireNonce: boolean;
  readonly nonceLifetimeSeconds: number;
  /** Normalised origins (`https://api.example.com`); `[publicOrigin]` when none were configured. */
  readonly origins: readonly string[];
}

/** Normalises the origins (each problem pushed naming its field) and fills in the default. */
export function resolveDPoP(c: ParsedDPoP, publicOrigin: string, problems: string[], from: (field: string) => string): DPoPConfig {
  const origins: string[] = [];
  for (const [i, value] of (c.origins ?? [publicOrigin]).entries()) {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:') || (url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
      problems.push(`dpop.origins.${i}: must be an origin such as https://api.example.com (scheme, host and port only)${from('dpop.origins')}`);
      continue;
    }
    origins.push(url.origin);
  }
  return {
    algorithms: [...new Set(c.algorithms)],
    proofWindowSeconds: c.proofWindowSeconds,
    requireNonce: c.requireNonce,
    nonceLifetimeSeconds: c.nonceLifetimeSeconds,
    origins: [...new Set(origins)],
  };
}
