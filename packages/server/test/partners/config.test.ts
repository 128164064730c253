// The partners section is checked at start, and a bad field is named.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { isGatehouseError } from '../../src/core/errors.js';

const SECRET = 'partner-config-test-secret-0123456789-abcdefghij';

function problem(input: ConfigInput): string {
  try {
    resolveConfig({ secret: SECRET, ...input });
  } catch (error) {
    if (isGatehouseError(error, 'CONFIG_INVALID')) return error.message;
    throw error;
  }
  return 'accepted';
}

describe('the partners section', () => {
  it('defaults to off, a day of overlap and 600 requests a minute', () => {
    expect(resolveConfig({ secret: SECRET }).partners).toEqual({ enabled: false, rotationOverlapSeconds: 86400, rateLimit: { requests: 600, windowSeconds: 60 } });
  });

  it.each([
    [{ partners: { enabled: 'yes' } }, 'partners.enabled'],
    [{ partners: { rotationOverlapSeconds: -1 } }, 'partners.rotationOverlapSeconds'],
    [{ partners: { rotationOverlapSeconds: 31 * 86400 } }, 'partners.rotationOverlapSeconds'],
    [{ partners: { rateLimit: { requests: 0 } } }, 'partners.rateLimit.requests'],
    [{ partners: { rateLimit: { windowSeconds: 7200 } } }, 'partners.rateLimit.windowSeconds'],
    [{ partners: { origins: ['https://a.test'] } }, 'partners'],
  ] as const)('refuses %j, naming %s', (input, field) => {
    expect(problem(input as unknown as ConfigInput)).toContain(field);
  });
});
