/**
 * `gatehouse.dpop`: the DPoP proof verifier of a running Gatehouse, its code
 * loaded on the first proof (a deployment whose clients never send one never
 * loads it). Its nonces are made without that load: they are an HMAC.
 */
import type { DPoPConfig } from '../config/dpop-schema.js';
import type { Clock } from '../core/clock.js';
import type { ConsumeOnce } from '../core/consume-once.js';
import type { KeyObject } from 'node:crypto';
import { DPoPNonces } from './nonces.js';
import type { DPoPExpectations, DPoPProofVerifier, DPoPRequest, VerifiedDPoPProof } from './proof-verifier.js';

/** Verifies DPoP proofs with the `dpop` section's rules; see `DPoPProofVerifier`. */
export interface DPoPProofs {
  /**
   * Verifies the proof of `request` (its `DPoP` header) and consumes its
   * `jti`. Rejects with a `GatehouseError`: a `DPOP_…` code (401) per cause,
   * or 503 `REPLAY_CHECK_UNAVAILABLE`. Shape the refusal for where it
   * happened with `resourceRefusal` or `tokenEndpointRefusal`.
   *
   * @example
   * ```ts
   * // at a token endpoint: bind what is issued to the proof's key
   * const { jkt } = await gatehouse.dpop.verify({ method: 'POST', target: '/oauth/token', proof: request.headers.get('dpop') });
   * ```
   */
  verify(request: DPoPRequest, expect?: DPoPExpectations): Promise<VerifiedDPoPProof>;
  /** The current server nonce, for a `DPoP-Nonce` response header. */
  nonce(): string;
  /** The accepted proof algorithms (`dpop_signing_alg_values_supported`, `WWW-Authenticate: DPoP algs`). */
  readonly algorithms: readonly string[];
}

export interface DPoPProofsOptions {
  readonly config: DPoPConfig;
  readonly consumeOnce: ConsumeOnce;
  /** The HMAC key of server nonces (`KeyRing.dpopNonce`). */
  readonly nonceKey: KeyObject;
  readonly clock: Clock;
}

export function createDPoPProofs(options: DPoPProofsOptions): DPoPProofs {
  const nonces = new DPoPNonces(options.nonceKey, options.config.nonceLifetimeSeconds, options.clock);
  let verifier: Promise<DPoPProofVerifier> | undefined;
  const load = (): Promise<DPoPProofVerifier> =>
    (verifier ??= import('./proof-verifier.js').then(
      ({ DPoPProofVerifier: Verifier }) => new Verifier({ config: options.config, consumeOnce: options.consumeOnce, nonces, clock: options.clock }),
    ));
  return {
    verify: async (request, expect) => (await load()).verify(request, expect),
    nonce: () => nonces.current(),
    algorithms: options.config.algorithms,
  };
}
