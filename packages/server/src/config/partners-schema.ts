import { z } from 'zod';

/**
 * The `partners` section: whether partner keys are accepted (partners and
 * their keys are managed with `gatehouse partner …`, kept in the store), how
 * long a rotated key keeps working, and how many requests a key may make.
 */
export const partnersSchema = z
  .object({
    /** Accept partner keys on partner routes (and answer CORS for partners' origins). Off: `gatehouse.partners` guards throw at build. */
    enabled: z.boolean().default(false),
    /** How long the old key keeps working after `gatehouse partner rotate` (unless it says otherwise). */
    rotationOverlapSeconds: z.number().int().min(0).max(30 * 86400).default(86400),
    rateLimit: z
      .object({
        /** Requests one key may make per window, all instances together (with Redis). */
        requests: z.number().int().min(1).max(1_000_000).default(600),
        windowSeconds: z.number().int().min(1).max(3600).default(60),
      })
      .strict()
      .default({ requests: 600, windowSeconds: 60 }),
  })
  .strict()
  .default({ enabled: false, rotationOverlapSeconds: 86400, rateLimit: { requests: 600, windowSeconds: 60 } });

export type ParsedPartners = z.output<typeof partnersSchema>;
