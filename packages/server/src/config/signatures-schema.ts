import { z } from 'zod';

/**
 * The `signatures` section: who may sign requests (RFC 9421) to APIs that
 * Gatehouse's signature guards protect, and how strictly they are checked.
 * Key material is checked when the configuration is resolved, so a bad key
 * stops the start with its field named.
 */

/** A keyid: what a client puts in `keyid`, and what a handler sees as the caller. */
const KEYID = /^[A-Za-z0-9._:-]{1,128}$/;

const hmacKey = z
  .object({
    alg: z.literal('hmac-sha256'),
    /** Base64 or base64url of at least 32 random bytes (`gatehouse secret generate` prints one). */
    secret: z.string().min(1).optional(),
    /** Read the secret from this file instead (trailing newline ignored). */
    secretFile: z.string().min(1).optional(),
  })
  .strict();

const ed25519Key = z
  .object({
    alg: z.literal('ed25519'),
    /** The client's public key, PEM (SPKI). */
    publicKey: z.string().min(1).optional(),
    /** Read the PEM public key from this file instead. */
    publicKeyFile: z.string().min(1).optional(),
  })
  .strict();

export const signaturesSchema = z
  .object({
    /** Signing keys by keyid. */
    keys: z
      .record(z.string(), z.discriminatedUnion('alg', [hmacKey, ed25519Key]))
      .superRefine((keys, ctx) => {
        // Checked here rather than as the record's key schema, so the message names the keyid and says what is allowed.
        for (const id of Object.keys(keys)) {
          if (!KEYID.test(id)) ctx.addIssue({ code: 'custom', path: [id], message: 'a keyid must be 1-128 letters, digits or . _ : -' });
        }
      })
      .default({}),
    /** How far a signature's `created` may be from the server's clock, either way; nonces are kept this long. */
    clockSkewSeconds: z.number().int().min(1).max(3600).default(300),
    /** The origins signed requests are sent to (scheme, host, port). Default: publicOrigin. */
    origins: z.array(z.string().min(1)).min(1).optional(),
    /** Largest signed body a guard reads and checks. */
    bodyLimitBytes: z.number().int().min(0).max(100 * 1024 * 1024).default(1024 * 1024),
  })
  .strict()
  .default({ keys: {}, clockSkewSeconds: 300, bodyLimitBytes: 1024 * 1024 });

export type SignaturesInput = z.input<typeof signaturesSchema>;
export type ParsedSignatures = z.output<typeof signaturesSchema>;
