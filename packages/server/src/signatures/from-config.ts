import type { SignaturesConfig } from '../config/signatures-config.js';
import type { Clock } from '../core/clock.js';
import { ed25519VerificationKey, hmacSignatureKey, type SignatureVerificationKey } from './keys.js';
import { SignatureVerifier, type ConsumeOnce } from './verifier.js';

/** The verification keys of the `signatures.keys` section (already checked when the configuration was resolved). */
export function configuredSignatureKeys(config: SignaturesConfig): SignatureVerificationKey[] {
  return config.keys.map((key) => (key.alg === 'hmac-sha256' ? hmacSignatureKey(key.keyid, key.material) : ed25519VerificationKey(key.keyid, key.material)));
}

/** A verifier for the `signatures` section: its keys, origins and window, nonces through `consumeOnce`. */
export function signatureVerifierFromConfig(config: SignaturesConfig, consumeOnce: ConsumeOnce, clock: Clock): SignatureVerifier {
  return new SignatureVerifier({
    keys: configuredSignatureKeys(config),
    origins: config.origins,
    clockSkewSeconds: config.clockSkewSeconds,
    consumeOnce,
    clock,
  });
}
