import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import express from 'express';
import { createHandler } from 'graphql-http/lib/use/express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expressAuth, expressGuard } from '../../src/http/express.js';
import type { Auth } from '../../src/http/guard.js';
import type { TestBrowser } from '../support/test-browser.js';
import { ALICE } from '../support/test-server.js';
import { CAROL, serveApp, type AdapterServer } from './adapter-apps.js';

// graphql-http loads graphql as CommonJS; so does Node for an `import`, but Vite (vitest) would
// pick graphql's ESM build, a second copy whose schema graphql-http refuses ("another realm").
const { buildSchema, GraphQLError } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

// The GraphQL pattern of docs/library.md: one guarded POST endpoint, roles checked per resolver.
interface Context {
  auth: Auth | null;
}

function requireRole(context: Context, role: string): Auth {
  if (context.auth === null) throw new GraphQLError('Sign in first.', { extensions: { code: 'UNAUTHENTICATED' } });
  if (!context.auth.user.roles.includes(role)) throw new GraphQLError('Not allowed.', { extensions: { code: 'FORBIDDEN' } });
  return context.auth;
}

const schema = buildSchema(`
  type Query { me: String, products: [String!]! }
  type Mutation { deleteProduct(name: String!): Boolean! }
`);

let server: AdapterServer;
beforeAll(async () => {
  server = await serveApp('express', async (gatehouse) => {
    const products = new Set(['tea', 'coffee']);
    const rootValue = {
      products: () => [...products],
      me: (_args: unknown, context: Context) => context.auth?.user.username ?? null,
      deleteProduct: ({ name }: { name: string }, context: Context) => {
        requireRole(context, 'admin');
        return products.delete(name);
      },
    };
    const app = express();
    app.use(expressAuth(gatehouse));
    app.post('/graphql', expressGuard(gatehouse, { allowAnonymous: true }), createHandler({ schema, rootValue, context: (req) => ({ auth: req.raw.auth ?? null }) }));
    return createServer(app);
  });
});
afterAll(async () => {
  await server.close();
});

function graphql(browser: TestBrowser, query: string, options: { xsrf?: boolean } = {}) {
  return browser.post('/graphql', { json: { query }, ...options });
}

async function signedIn(credentials: { username: string; password: string }): Promise<TestBrowser> {
  const browser = server.browser();
  expect((await browser.login(credentials)).status).toBe(200);
  return browser;
}

describe('GraphQL behind one guarded POST endpoint', () => {
  it('refuses any operation without a CSRF token before GraphQL runs, guests included', async () => {
    const response = await graphql(server.browser(), '{ products }');
    expect({ status: response.status, code: response.body.error.code }).toEqual({ status: 403, code: 'CSRF_REJECTED' });
  });

  it('refuses a signed-in user’s operation sent from another origin', async () => {
    const alice = await signedIn(ALICE);
    const response = await graphql(alice.fork({ origin: 'https://evil.example' }), '{ me }');
    expect({ status: response.status, code: response.body.error.code }).toEqual({ status: 403, code: 'CSRF_REJECTED' });
  });

  it('answers a guest holding the anonymous CSRF token, with auth = null', async () => {
    const guest = server.browser();
    expect((await guest.get('/auth/csrf')).status).toBe(200);
    const response = await graphql(guest, '{ me products }');
    expect({ status: response.status, body: response.body }).toEqual({ status: 200, body: { data: { me: null, products: ['tea', 'coffee'] } } });
  });

  it('checks roles in the resolver: a guest is UNAUTHENTICATED, a user FORBIDDEN, an admin succeeds', async () => {
    const guest = server.browser();
    await guest.get('/auth/csrf');
    const mutation = 'mutation { deleteProduct(name: "tea") }';
    const asGuest = await graphql(guest, mutation);
    expect(asGuest.body.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED' });
    const asAlice = await graphql(await signedIn(ALICE), mutation);
    expect(asAlice.body.errors?.[0]?.extensions).toEqual({ code: 'FORBIDDEN' });
    const asCarol = await graphql(await signedIn(CAROL), mutation);
    expect({ status: asCarol.status, body: asCarol.body }).toEqual({ status: 200, body: { data: { deleteProduct: true } } });
  });

  it('hands the signed-in user to the resolvers', async () => {
    const response = await graphql(await signedIn(ALICE), '{ me }');
    expect(response.body).toEqual({ data: { me: 'alice' } });
  });
});
