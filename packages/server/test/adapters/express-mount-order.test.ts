import { createServer } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expressAuth } from '../../src/http/express.js';
import { ALICE } from '../support/test-server.js';
import { serveApp, type AdapterServer } from './adapter-apps.js';

// docs/library.md: expressAuth goes before any body parser. Mounted after one, it must fail
// loudly and closed, not hand the engine an empty body and answer something misleading.
let server: AdapterServer;
beforeAll(async () => {
  server = await serveApp('express', async (gatehouse) => {
    const app = express();
    app.use(express.json());
    app.use(expressAuth(gatehouse));
    return createServer(app);
  });
});
afterAll(async () => {
  await server.close();
});

describe('expressAuth mounted after a body parser', () => {
  it('answers a JSON POST with a generic 500 and sets no cookies', async () => {
    const response = await server.browser().login(ALICE);
    expect({ status: response.status, code: response.body.error.code, cookies: response.setCookies.length }).toEqual({ status: 500, code: 'INTERNAL_ERROR', cookies: 0 });
  });

  it('still answers GET requests, which have no body to lose', async () => {
    const response = await server.browser().get('/auth/me');
    expect({ status: response.status, code: response.body.error.code }).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
  });
});
