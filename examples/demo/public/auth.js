// The demo's one Gatehouse client, and a JSON helper for the demo's own API.
// The SDK owns the session: the XSRF header, refresh (shared with other tabs),
// and telling the page when the session ends. This file only adds JSON.
import { AuthError, createAuthClient, errorFromResponse } from './sdk/index.js';

export { AuthError };

export const auth = createAuthClient();

/** One call to the demo API through the SDK's fetch. Resolves with the JSON body; rejects with an AuthError. */
export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await auth.fetch(path, { method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (cause) {
    throw new AuthError('NETWORK_ERROR', 'Could not reach the server. Check your connection and try again.', { cause });
  }
  if (!response.ok) throw await errorFromResponse(response);
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}
