/** A parsed `Set-Cookie`. */
export interface SetCookie {
  readonly name: string;
  readonly value: string;
  readonly attributes: ReadonlyMap<string, string>;
}

export function parseSetCookie(header: string): SetCookie {
  const [pair = '', ...rest] = header.split(';');
  const eq = pair.indexOf('=');
  const attributes = new Map<string, string>();
  for (const part of rest) {
    const [k = '', ...v] = part.trim().split('=');
    attributes.set(k.toLowerCase(), v.join('='));
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes };
}

export interface TestResponse {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON, or null for an empty body. */
  readonly body: any;
  readonly setCookies: readonly SetCookie[];
}

export interface RequestOptions {
  readonly json?: unknown;
  /** A raw body; give `headers['content-type']` yourself. */
  readonly body?: string;
  readonly headers?: Record<string, string>;
  /** Send the XSRF header copied from the cookie (default: true for unsafe methods). */
  readonly xsrf?: boolean;
  /** Do not send cookies. */
  readonly noCookies?: boolean;
}

/**
 * A cookie-keeping HTTP client that behaves like a same-origin page: it
 * sends `Origin` and, for unsafe methods, copies `XSRF-TOKEN` into
 * `X-XSRF-TOKEN` the way Angular and axios do. Honours cookie paths and deletion.
 */
export class TestBrowser {
  readonly jar = new Map<string, { value: string; path: string }>();

  constructor(
    readonly baseURL: string,
    readonly origin: string | null,
  ) {}

  cookie(name: string): string | undefined {
    return this.jar.get(name)?.value;
  }

  cookieHeader(path: string): string {
    return [...this.jar].filter(([, c]) => path === c.path || path.startsWith(c.path === '/' ? '/' : `${c.path}/`)).map(([n, c]) => `${n}=${c.value}`).join('; ');
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<TestResponse> {
    const headers: Record<string, string> = {};
    if (this.origin !== null) headers['origin'] = this.origin;
    const cookie = this.cookieHeader(path);
    if (cookie !== '' && !options.noCookies) headers['cookie'] = cookie;
    const unsafe = !['GET', 'HEAD', 'OPTIONS'].includes(method);
    const xsrf = this.cookie('XSRF-TOKEN');
    if ((options.xsrf ?? unsafe) && xsrf !== undefined) headers['x-xsrf-token'] = xsrf;
    let body: string | undefined = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    }
    Object.assign(headers, options.headers);
    const response = await fetch(this.baseURL + path, { method, headers, body, redirect: 'manual' });
    const text = await response.text();
    const setCookies = response.headers.getSetCookie().map(parseSetCookie);
    for (const c of setCookies) {
      const maxAge = c.attributes.get('max-age');
      if (maxAge !== undefined && Number(maxAge) <= 0) this.jar.delete(c.name);
      else this.jar.set(c.name, { value: c.value, path: c.attributes.get('path') ?? '/' });
    }
    return { status: response.status, headers: response.headers, body: text === '' ? null : JSON.parse(text), setCookies };
  }

  get(path: string, options?: RequestOptions): Promise<TestResponse> {
    return this.request('GET', path, options);
  }

  post(path: string, options?: RequestOptions): Promise<TestResponse> {
    return this.request('POST', path, options);
  }

  delete(path: string, options?: RequestOptions): Promise<TestResponse> {
    return this.request('DELETE', path, options);
  }

  login(credentials: { username: string; password: string }): Promise<TestResponse> {
    return this.post('/auth/login', { json: credentials });
  }

  /**
   * A copy sharing nothing: another device, or (with `origin`) the same
   * cookies sent from another page: a foreign origin, or `null` for none.
   */
  fork(options?: { origin?: string | null }): TestBrowser {
    const other = new TestBrowser(this.baseURL, options?.origin === undefined ? this.origin : options.origin);
    for (const [k, v] of this.jar) other.jar.set(k, { ...v });
    return other;
  }
}
