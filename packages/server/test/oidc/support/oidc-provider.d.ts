/**
 * The part of `oidc-provider`'s API the tests use, typed: the package ships
 * no declarations of its own. Only what `test-provider.ts` and the tests call is here;
 * anything else is a type error, so a new use has to be declared first.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  import type { JWK } from 'jose';

  /** The Koa context as the tests' middleware and error renderer read and change it. */
  export interface ProviderContext {
    readonly path: string;
    readonly method: string;
    querystring: string;
    status: number;
    body: unknown;
    type: string;
    readonly oidc?: { readonly params?: Readonly<Record<string, unknown>> };
  }

  /** A registered client. */
  export interface ProviderClient {
    grantTypeAllowed(type: string): boolean;
    /** Sends a back-channel logout token for `sub` and the provider session `sid` to the client. */
    backchannelLogout(sub: string, sid: string): Promise<void>;
  }

  export interface ClientMetadata {
    readonly client_id: string;
    readonly client_secret?: string;
    readonly token_endpoint_auth_method?: string;
    readonly token_endpoint_auth_signing_alg?: string;
    readonly jwks?: { readonly keys: readonly JWK[] };
    readonly redirect_uris: readonly string[];
    readonly post_logout_redirect_uris?: readonly string[];
    readonly backchannel_logout_uri?: string;
    readonly backchannel_logout_session_required?: boolean;
    readonly grant_types?: readonly string[];
    readonly response_types?: readonly string[];
  }

  export interface Account {
    readonly accountId: string;
    claims(): Promise<Readonly<Record<string, unknown>>>;
  }

  export interface Configuration {
    readonly clients?: readonly ClientMetadata[];
    readonly jwks?: { readonly keys: readonly JWK[] };
    readonly cookies?: { readonly keys: readonly string[] };
    readonly features?: Readonly<Record<string, { readonly enabled: boolean }>>;
    readonly claims?: Readonly<Record<string, readonly string[]>>;
    findAccount?(ctx: ProviderContext, id: string): Promise<Account | undefined>;
    readonly pkce?: { required(ctx: ProviderContext, client: ProviderClient): boolean };
    issueRefreshToken?(ctx: ProviderContext, client: ProviderClient): boolean | Promise<boolean>;
    readonly conformIdTokenClaims?: boolean;
    readonly ttl?: Readonly<Record<string, number>>;
    fetch?(url: string, init: RequestInit & { dispatcher?: unknown }): Promise<Response>;
    renderError?(ctx: ProviderContext, out: Record<string, unknown>, error: Error): void | Promise<void>;
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly Client: { find(id: string): Promise<ProviderClient | undefined> };
    on(event: 'server_error', listener: (ctx: ProviderContext, error: Error) => void): this;
    use(middleware: (ctx: ProviderContext, next: () => Promise<void>) => Promise<void>): void;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
  }
}
