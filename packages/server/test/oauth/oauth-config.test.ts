/** The `oauth` section: defaults, and values refused at start with the field named. */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { isGatehouseError } from '../../src/core/errors.js';
import { TEST_SECRET } from '../support/test-server.js';

const resolve = (oauth: unknown) => resolveConfig({ secret: TEST_SECRET, publicOrigin: 'https://app.example', oauth } as ConfigInput);

function problemOf(oauth: unknown): string {
  try {
    resolve(oauth);
  } catch (error) {
    if (isGatehouseError(error, 'CONFIG_INVALID')) return error.message;
    throw error;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('oauth configuration', () => {
  it('is off by default; machine tokens default to the access tokens\' audience', () => {
    expect(resolve(undefined).oauth).toEqual({ enabled: false, codeTtlSeconds: 60, clientTokenTtlSeconds: 600, clientTokenAudience: 'https://app.example' });
    expect(resolve({ enabled: true, clientTokenAudience: 'https://api.example' }).oauth.clientTokenAudience).toBe('https://api.example');
  });

  it.each([
    [{ codeTtlSeconds: 5 }, 'oauth.codeTtlSeconds'],
    [{ codeTtlSeconds: 3600 }, 'oauth.codeTtlSeconds'],
    [{ clientTokenTtlSeconds: 10 }, 'oauth.clientTokenTtlSeconds'],
    [{ enabled: 'yes' }, 'oauth.enabled'],
    [{ clientTokenAudience: '' }, 'oauth.clientTokenAudience'],
    [{ grants: ['password'] }, 'oauth'],
  ])('refuses %j naming %s', (oauth, field) => {
    expect(problemOf(oauth)).toContain(field);
  });
});
