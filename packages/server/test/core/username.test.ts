import { describe, expect, it } from 'vitest';
import { isGatehouseError } from '../../src/core/errors.js';
import { normalizeUsername } from '../../src/core/username.js';

function rejection(input: unknown): { code: string; message: string } {
  try {
    normalizeUsername(input);
  } catch (error) {
    if (isGatehouseError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('normalizeUsername', () => {
  it.each([
    ['alice', 'alice'],
    ['Alice', 'alice'],
    ['  ALICE  ', 'alice'],
    ['ＡＬＩＣＥ', 'alice'], // fullwidth
    ['ａｌｉｃｅ１２３', 'alice123'],
    ['ﬁona', 'fiona'], // the fi ligature folds to two letters
    ['alice.smith', 'alice.smith'],
    ['a_b-c+d@example.com', 'a_b-c+d@example.com'],
    ['abc', 'abc'],
    ['a'.repeat(64), 'a'.repeat(64)],
    ['007', '007'],
  ])('accepts %j as %j', (input, expected) => {
    expect(normalizeUsername(input)).toBe(expected);
  });

  it('maps the look-alike forms NFKC can fold to one account', () => {
    expect(normalizeUsername('ＡＬＩＣＥ')).toBe(normalizeUsername('alice'));
    expect(normalizeUsername('Alice')).toBe(normalizeUsername('aLiCe'));
  });

  it.each([
    ['Cyrillic а', 'аlice'],
    ['Greek ο', 'bοb'],
    ['accented letters', 'josé'],
    ['combining marks', 'jose\u0301'],
    ['CJK', '山田太郎'],
    ['an emoji', 'alice😀'],
    ['a zero-width space', 'ali\u200Bce'],
    ['an inner space', 'alice smith'],
    ['a slash', 'alice/bob'],
    ['a leading dot', '.alice'],
    ['a trailing hyphen', 'alice-'],
    ['a leading @', '@alice'],
    ['a NUL byte', 'ali\0ce'],
    ['a newline inside', 'ali\nce'],
  ])('rejects %s', (_name, input) => {
    expect(rejection(input)).toMatchObject({ code: 'USERNAME_INVALID', message: expect.stringMatching(/may contain only/) });
  });

  it.each([
    ['too short', 'ab'],
    ['too short after trimming', '  ab  '],
    ['empty', ''],
    ['too long', 'a'.repeat(65)],
    ['far too long', 'a'.repeat(100_000)],
  ])('rejects %s with a length message', (_name, input) => {
    expect(rejection(input)).toMatchObject({ code: 'USERNAME_INVALID', message: expect.stringMatching(/characters long/) });
  });

  it('rejects non-strings', () => {
    for (const input of [undefined, null, 42, {}, ['alice']]) {
      expect(rejection(input)).toMatchObject({ code: 'USERNAME_INVALID' });
    }
  });

  it('never echoes the input in the message', () => {
    expect(rejection('evil<script>').message).not.toContain('<script>');
  });
});
