/** The `dpop` section: defaults, and every bad value stops the start naming its field. */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { TEST_SECRET } from '../support/test-server.js';

const base = { secret: TEST_SECRET, publicOrigin: 'https://app.example.test' } as const;

function problemOf(dpop: unknown): string {
  try {
    resolveConfig({ ...base, dpop } as ConfigInput);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('dpop configuration', () => {
  it('defaults: every asymmetric algorithm, a 60 s window, no nonce, publicOrigin as the only origin', () => {
    expect(resolveConfig(base).dpop).toEqual({
      algorithms: ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'],
      proofWindowSeconds: 60,
      requireNonce: false,
      nonceLifetimeSeconds: 300,
      origins: ['https://app.example.test'],
    });
  });

  it('normalises configured origins', () => {
    expect(resolveConfig({ ...base, dpop: { origins: ['HTTPS://API.Example.test:443/'] } }).dpop.origins).toEqual(['https://api.example.test']);
  });

  it.each([
    [{ algorithms: ['HS256'] }, 'dpop.algorithms.0'],
    [{ algorithms: ['none'] }, 'dpop.algorithms.0'],
    [{ algorithms: [] }, 'dpop.algorithms'],
    [{ proofWindowSeconds: 0 }, 'dpop.proofWindowSeconds'],
    [{ proofWindowSeconds: 3600 }, 'dpop.proofWindowSeconds'],
    [{ nonceLifetimeSeconds: 1 }, 'dpop.nonceLifetimeSeconds'],
    [{ requireNonce: 'yes' }, 'dpop.requireNonce'],
    [{ origins: ['https://api.example.test/path'] }, 'dpop.origins.0'],
    [{ origins: ['ftp://api.example.test'] }, 'dpop.origins.0'],
    [{ origins: [] }, 'dpop.origins'],
    [{ unknown: 1 }, 'dpop.unknown'],
  ])('%j is refused naming %s', (dpop, field) => {
    const message = problemOf(dpop);
    expect(message).toContain(`${field}:`);
  });
});
