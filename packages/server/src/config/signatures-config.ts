import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { ed25519VerificationKey, hmacSignatureKey, type SignatureAlgorithm } from '../signatures/keys.js';
import type { ParsedSignatures } from './signatures-schema.js';

/** One client key for signed requests, its material read and checked. */
export interface SignatureKeyConfig {
  readonly keyid: string;
  readonly alg: SignatureAlgorithm;
  /** `hmac-sha256`: the shared secret (base64); never log it. `ed25519`: the public key, PEM. */
  readonly material: string;
}

/** The `signatures` section after validation. */
export interface SignaturesConfig {
  readonly keys: readonly SignatureKeyConfig[];
  readonly clockSkewSeconds: number;
  /** Normalised origins (`https://api.example.com`); `publicOrigin` when none were configured. */
  readonly origins: readonly string[];
  readonly bodyLimitBytes: number;
}

function readMaterial(field: string, file: string, cwd: string, problems: string[]): string | undefined {
  try {
    return readFileSync(resolvePath(cwd, file), 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    problems.push(`${field}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    return undefined;
  }
}

/**
 * Reads key files, checks every key (a secret's length, a public key's type)
 * and normalises the origins; each problem is pushed naming its field and
 * never quoting key material.
 */
export function resolveSignatures(
  c: ParsedSignatures,
  publicOrigin: string,
  cwd: string,
  problems: string[],
  from: (field: string) => string,
): SignaturesConfig {
  const keys: SignatureKeyConfig[] = [];
  for (const [keyid, key] of Object.entries(c.keys)) {
    const prefix = `signatures.keys.${keyid}`;
    const [inline, file, inlineName, fileName] =
      key.alg === 'hmac-sha256' ? [key.secret, key.secretFile, 'secret', 'secretFile'] : [key.publicKey, key.publicKeyFile, 'publicKey', 'publicKeyFile'];
    if ((inline === undefined) === (file === undefined)) {
      problems.push(`${prefix}: set exactly one of ${inlineName} and ${fileName}${from(prefix)}`);
      continue;
    }
    const field = `${prefix}.${inline === undefined ? fileName : inlineName}`;
    const material = inline ?? readMaterial(field, file ?? '', cwd, problems);
    if (material === undefined) continue;
    try {
      if (key.alg === 'hmac-sha256') hmacSignatureKey(keyid, material);
      else ed25519VerificationKey(keyid, material);
    } catch (error) {
      problems.push(`${field}: ${(error as Error).message}${from(field)}`);
      continue;
    }
    keys.push({ keyid, alg: key.alg, material });
  }

  const origins: string[] = [];
  for (const [i, value] of (c.origins ?? [publicOrigin]).entries()) {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:') || (url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.username !== '') {
      problems.push(`signatures.origins.${i}: must be an origin such as https://api.example.com (scheme, host and port only)${from('signatures.origins')}`);
      continue;
    }
    origins.push(url.origin);
  }
  return { keys, clockSkewSeconds: c.clockSkewSeconds, origins, bodyLimitBytes: c.bodyLimitBytes };
}
