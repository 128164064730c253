/**
 * Node's fetch keeps no cookies. This gives a Gatehouse client what a browser
 * tab would: one cookie jar (shared by every "tab" made from it), an `Origin`
 * header on every request, and `document.cookie`'s view of the jar (only the
 * cookies that are not HttpOnly). Cookie paths and deletion are honoured.
 */
export interface CookieBrowser {
  readonly fetch: typeof fetch;
  /** What `document.cookie` would show. */
  readCookies(): string;
  readonly jar: Map<string, { value: string; path: string; httpOnly: boolean }>;
  /** Every request sent, in order: method and path. */
  readonly requests: Array<{ method: string; path: string; headers: Headers }>;
}

/**
 * `transport` is the network under the jar (default: Node's fetch). A test can
 * break it: an answer it throws away never reaches the jar, as in a browser
 * whose connection dropped.
 */
export function cookieBrowser(origin: string, options: { transport?: typeof fetch } = {}): CookieBrowser {
  const transport = options.transport ?? fetch;
  const jar = new Map<string, { value: string; path: string; httpOnly: boolean }>();
  const requests: CookieBrowser['requests'] = [];
  const browserFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    headers.set('origin', origin);
    const cookie = [...jar]
      .filter(([, c]) => url.pathname === c.path || url.pathname.startsWith(c.path === '/' ? '/' : `${c.path}/`))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
    if (cookie !== '' && request.credentials !== 'omit') headers.set('cookie', cookie);
    requests.push({ method: request.method, path: url.pathname, headers });
    const body = request.body === null ? undefined : await request.arrayBuffer();
    const response = await transport(url, { method: request.method, headers, body, redirect: 'manual', signal: request.signal });
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const attr = new Map(attributes.map((a) => [a.split('=')[0]!.toLowerCase(), a.split('=').slice(1).join('=')]));
      if (Number(attr.get('max-age') ?? '1') <= 0) jar.delete(name);
      else jar.set(name, { value: pair.slice(eq + 1), path: attr.get('path') ?? '/', httpOnly: attr.has('httponly') });
    }
    return response;
  };
  return {
    fetch: browserFetch,
    jar,
    requests,
    readCookies: () =>
      [...jar]
        .filter(([, c]) => !c.httpOnly)
        .map(([name, c]) => `${name}=${c.value}`)
        .join('; '),
  };
}
