/**
 * The client's address. `X-Forwarded-For` is believed only when the direct
 * peer is a configured proxy, and then only up to the first hop that is not
 * one of ours (the right-most untrusted address): anything left of that was
 * written by the client and can say anything.
 */
export function resolveClientIP(
  remoteAddress: string | undefined,
  forwardedFor: string | null,
  trustProxy: readonly string[],
): string {
  const peer = normalizeAddress(remoteAddress ?? 'unknown');
  if (forwardedFor === null || trustProxy.length === 0 || !trustProxy.includes(peer)) return peer;
  const hops = forwardedFor.split(',').map((h) => normalizeAddress(h.trim())).filter((h) => h !== '');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i];
    if (hop !== undefined && !trustProxy.includes(hop)) return hop;
  }
  return hops[0] ?? peer;
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are one client. */
function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
