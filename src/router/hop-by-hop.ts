// The request fields the router never passes to a cell, for both ways a request arrives (the byte-level
// fast path in http1.ts and Node's server in exchange.ts): one list, so the two paths cannot drift.

/**
 * Fields that belong to one connection only (RFC 9110 §7.6.1: Connection, Proxy-Connection,
 * Keep-Alive, TE, Transfer-Encoding, Upgrade; Trailer with them), and fields the router writes
 * itself on the hop to the cell (Content-Length, X-Forwarded-For; Expect is answered by the router).
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'transfer-encoding',
  'upgrade',
  'trailer',
  'content-length',
  'expect',
  'x-forwarded-for',
]);

/** The field names a Connection value lists (lower case), which are hop-by-hop for this request too. */
export function connectionOptions(value: string): string[] {
  return value
    .toLowerCase()
    .split(',')
    .map((token) => token.trim())
    .filter((token) => token !== '');
}

/** Whether a request field (name in lower case) stays on this hop; `named` are the Connection options. */
export function isHopByHop(name: string, named: ReadonlySet<string> = NO_OPTIONS): boolean {
  return HOP_BY_HOP.has(name) || named.has(name);
}

const NO_OPTIONS: ReadonlySet<string> = new Set();
