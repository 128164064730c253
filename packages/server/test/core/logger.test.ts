/**
 * Logs never carry a credential (SECURITY: never log secrets or tokens): an
 * unexpected error is logged by name, code, message and status only, and
 * OAuth field names and credential headers are censored wherever a caller
 * puts them.
 */
import { Writable } from 'node:stream';
import { ResponseBodyError } from 'openid-client';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';

const SECRET = 'eyJhbGciOiJFUzI1NiJ9.c2VjcmV0LXRva2VuLXZhbHVl.sig';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger('info', destination), text: () => lines.join(''), lines };
}

describe('the logger', () => {
  it('logs an openid-client error with a response body by name, code, message and status only', () => {
    const { logger, text, lines } = capture();
    const body = { error: 'invalid_grant', error_description: `bad ${SECRET}`, access_token: SECRET, refresh_token: SECRET };
    const response = new Response(JSON.stringify(body), { status: 400, headers: { 'content-type': 'application/json' } });
    const error = new ResponseBodyError('server responded with an error in the response body', { cause: body, response });
    logger.error({ err: error }, 'oidc request failed');
    expect(text()).not.toContain(SECRET);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      msg: 'oidc request failed',
      err: { name: 'ResponseBodyError', code: 'OAUTH_RESPONSE_BODY_ERROR', message: 'server responded with an error in the response body', status: 400 },
    });
  });

  it('keeps the name and message of an Error cause, and nothing of another', () => {
    const { logger, lines } = capture();
    logger.warn({ err: new Error('upstream failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', body: SECRET }) }) }, 'x');
    const logged = JSON.parse(lines[0] ?? '{}') as { err: unknown };
    expect(logged.err).toEqual({ name: 'Error', message: 'upstream failed', cause: { name: 'Error', message: 'connect ECONNREFUSED', code: 'ECONNREFUSED' } });
  });

  it('censors OAuth fields and credential headers, at the top level and one level down', () => {
    const { logger, text, lines } = capture();
    const fields = { access_token: SECRET, refresh_token: SECRET, id_token: SECRET, client_secret: SECRET, logout_token: SECRET, code_verifier: SECRET, assertion: SECRET, client_assertion: SECRET };
    logger.info({ ...fields, code: SECRET, body: { ...fields, code: SECRET }, query: { code: SECRET }, headers: { dpop: SECRET, authorization: `DPoP ${SECRET}`, cookie: SECRET, signature: SECRET } }, 'request');
    expect(text()).not.toContain(SECRET);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ access_token: '[redacted]', code: '[redacted]', body: { client_assertion: '[redacted]', code: '[redacted]' }, headers: { dpop: '[redacted]' } });
  });

  it('leaves an error code readable', () => {
    const { logger, lines } = capture();
    logger.warn({ err: Object.assign(new Error('lost'), { code: 'ECONNRESET' }) }, 'redis connection lost');
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ err: { code: 'ECONNRESET' } });
  });
});
