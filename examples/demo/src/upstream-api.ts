/**
 * The demo's upstream API: a service "written by another team" that sits
 * behind Gatehouse's gateway. It knows nothing of Gatehouse's cookies or
 * secret; it trusts a request only when its `Authorization: Bearer` identity
 * token verifies against Gatehouse's published keys — with nothing but `jose`,
 * as in docs/gateway.md ("Verifying the identity in Node") — and answers with
 * the identity it received.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

export interface UpstreamOptions {
  /** Gatehouse's `accessToken.issuer` (its publicOrigin by default). */
  readonly issuer: string;
  /** This upstream's route audience. */
  readonly audience: string;
  /**
   * Where Gatehouse publishes its keys. A function, because the demo learns
   * Gatehouse's listening address only after both servers are up.
   */
  readonly jwksURL: () => URL;
}

export interface UpstreamAPI {
  readonly server: Server;
  /** `http://127.0.0.1:<port>`, the route's upstream. */
  readonly url: string;
  close(): Promise<void>;
}

/** What the upstream answers: the identity it verified, never the token itself. */
export interface UpstreamAnswer {
  readonly message: string;
  readonly method: string;
  readonly path: string;
  /** Whether any cookie reached the upstream (the gateway sends none of the browser's). */
  readonly receivedCookies: boolean;
  readonly identity: {
    readonly sub: string | undefined;
    readonly username: unknown;
    readonly roles: unknown;
    readonly iss: string | undefined;
    readonly aud: JWTPayload['aud'];
    readonly iat: number | undefined;
    readonly exp: number | undefined;
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

/** Starts the upstream on an ephemeral loopback port. */
export async function startUpstreamAPI(options: UpstreamOptions): Promise<UpstreamAPI> {
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  async function identityOf(authorization: string | undefined): Promise<JWTPayload> {
    if (authorization === undefined || !authorization.startsWith('Bearer ')) throw new Error('no identity token');
    jwks ??= createRemoteJWKSet(options.jwksURL());
    const { payload } = await jwtVerify(authorization.slice(7), jwks, {
      issuer: options.issuer,
      audience: options.audience,
      typ: 'gatehouse-identity+jwt',
      algorithms: ['EdDSA', 'ES256', 'RS256'],
      requiredClaims: ['sub', 'sid', 'exp'],
    });
    return payload;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume(); // no body is read: drain whatever came
    const payload = await identityOf(req.headers.authorization).catch(() => null);
    if (payload === null) return json(res, 401, { error: { code: 'UNAUTHENTICATED', message: 'No identity token that verifies against the JWKS.' } });
    const answer: UpstreamAnswer = {
      message: 'Hello from the upstream API. This is the identity the gateway forwarded, as verified here with jose and the JWKS.',
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      receivedCookies: req.headers.cookie !== undefined,
      identity: {
        sub: payload.sub,
        username: payload['preferred_username'],
        roles: payload['roles'],
        iss: payload.iss,
        aud: payload.aud,
        iat: payload.iat,
        exp: payload.exp,
      },
    };
    json(res, 200, answer);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) json(res, 500, { error: { code: 'INTERNAL', message: 'The upstream failed.' } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
