// Where a cell answers: an http://host:port URL read into the address the router and probes connect
// to; the router speaks plain HTTP/1.1 to cells, so only http:// is accepted. And which hosts are this
// machine's (loopback; a request's Host). Pure: no I/O.
import net from 'node:net';
import { usageError } from './errors.js';

export interface CellAddress {
  /** An IPv4 address or a name (an IPv6 address without its brackets). */
  host: string;
  port: number;
  /** `http://host:port`, with no path: what paths are appended to. */
  base: string;
}

/** Reads a cell URL given by a user (`what` names the flag), or says how to write it. */
export function parseCellUrl(text: string, what = '--url'): CellAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`${what} "${text}" is not a URL: write it as http://HOST:PORT (e.g. http://10.0.0.5:8100)`);
  }
  if (url.protocol === 'https:') {
    throw usageError(
      `${what} "${text}" uses https, but the router speaks plain HTTP/1.1 to cells: use http://HOST:PORT (terminate TLS in front of the router)`,
    );
  }
  if (url.protocol !== 'http:') throw usageError(`${what} "${text}" must start with http:// (e.g. http://10.0.0.5:8100)`);
  if (url.username || url.password) throw usageError(`${what} "${text}" must not carry a user or password: write it as http://HOST:PORT`);
  // URL drops a scheme's default port (":80" for http): whether one was written is read from the text.
  const written = /^http:\/\/(?:\[[^\]]*\]|[^/?#:]*):(\d+)(?:[/?#]|$)/i.exec(text.trim())?.[1];
  if (written === undefined) throw usageError(`${what} "${text}" has no port: write it as http://HOST:PORT (e.g. http://${url.hostname || 'HOST'}:8100)`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw usageError(`${what} "${text}" must have no path or query: write it as http://HOST:PORT`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw usageError(`${what} "${text}" has no host: write it as http://HOST:PORT`);
  const port = Number(written);
  return { host, port, base: `http://${url.hostname}:${port}` };
}

/**
 * The address of a cell from its control.db row. A row always holds a checked URL; an unreadable one
 * (a hand edit) falls back to the local port, as cells were reached before URLs existed.
 */
export function cellAddress(cell: { url: string; port: number }): CellAddress {
  try {
    return parseCellUrl(cell.url);
  } catch {
    return { host: '127.0.0.1', port: cell.port, base: `http://127.0.0.1:${cell.port}` };
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/;

/** Whether a host name or address is this machine's loopback (reached from this host only). */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host);
}

/** Whether a URL's host is loopback (false for text that is no URL). */
export function isLoopbackUrl(text: string): boolean {
  try {
    return isLoopbackHost(new URL(text).hostname);
  } catch {
    return false;
  }
}

/**
 * Whether a request's Host names this machine by address, as localhost, or by one of `names`. A page
 * from another site that rebinds its own DNS name to this address (DNS rebinding) sends that name,
 * so a token-free endpoint that checks this cannot be read by a browser on another site's behalf.
 * No Host at all (HTTP/1.0) is no browser's request, and passes.
 */
export function hostNamesThisMachine(host: string | undefined, names: readonly string[]): boolean {
  if (host === undefined || host === '') return true;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d*$/, '');
  const lower = name.toLowerCase();
  return net.isIP(lower) !== 0 || lower === 'localhost' || names.some((known) => known.toLowerCase() === lower);
}
