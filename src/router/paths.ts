// How the router reads a request path. Pure: no URL object on the hot path, just string scanning.
// The router must route exactly the path the cell will resolve (Node's WHATWG URL parser), so any
// target that parser would rewrite (dot segments, backslashes, encoded slashes) is refused outright.
import { CUSTOMER_ID } from '../shared/names.js';

export type RouterTarget =
  | { kind: 'customer'; customerId: string; isCreate: boolean }
  | { kind: 'reference' }
  | { kind: 'health' }
  | { kind: 'bad-path'; reason: string }
  | { kind: 'bad-customer-id'; raw: string }
  /** Any other /api/<path>: in JWT mode routed for the token's customer (the example's router); otherwise unknown. */
  | { kind: 'api' }
  | { kind: 'not-found' };

const API = '/api/';
const CUSTOMERS = '/api/customers/';
const REFERENCE_PREFIXES = ['/api/products'];

/** Segments a URL parser resolves away ("." and "..", any of their dots percent-encoded). */
const DOT_SEGMENTS = new Set(['.', '%2e', '..', '.%2e', '%2e.', '%2e%2e']);

function isDotSegment(segment: string): boolean {
  return segment.length <= 6 && DOT_SEGMENTS.has(segment.toLowerCase());
}

/**
 * Why a cell could resolve this path to another one than the router reads, or null when it cannot:
 * a target that is not a plain path (origin-form), a dot segment, an empty segment ("//"), a
 * backslash (a URL parser reads it as "/"), an encoded slash or backslash, a fragment, a control
 * character or space. The path is the target before its query.
 */
export function pathHazard(path: string): string | null {
  if (path.charCodeAt(0) !== 47) return 'the target is not a path starting with "/"';
  let segmentStart = 1;
  for (let i = 1; i <= path.length; i += 1) {
    const code = i === path.length ? 47 : path.charCodeAt(i);
    if (code === 47) {
      if (i === segmentStart && i < path.length) return 'empty path segment ("//")';
      if (i - segmentStart <= 6 && isDotSegment(path.slice(segmentStart, i))) return 'dot segment ("." or "..", plain or percent-encoded)';
      segmentStart = i + 1;
    } else if (code <= 32 || code === 127) return 'control character or space';
    else if (code === 92) return 'backslash';
    else if (code === 35) return 'fragment ("#")';
    else if (code === 37) {
      const escape = path.slice(i + 1, i + 3).toLowerCase();
      if (!/^[0-9a-f]{2}$/.test(escape)) return 'a "%" not followed by two hex digits';
      if (escape === '2f') return 'encoded slash ("%2F")';
      if (escape === '5c') return 'encoded backslash ("%5C")';
    }
  }
  return null;
}

export function classifyPath(method: string, url: string): RouterTarget {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const hazard = pathHazard(path);
  if (hazard !== null) return { kind: 'bad-path', reason: hazard };
  if (path.startsWith(CUSTOMERS)) {
    const rest = path.slice(CUSTOMERS.length);
    const slash = rest.indexOf('/');
    const raw = slash === -1 ? rest : rest.slice(0, slash);
    let customerId: string;
    try {
      customerId = decodeURIComponent(raw);
    } catch {
      return { kind: 'bad-customer-id', raw };
    }
    if (!CUSTOMER_ID.test(customerId)) return { kind: 'bad-customer-id', raw };
    const isCreate = method === 'POST' && (slash === -1 || slash === rest.length - 1);
    return { kind: 'customer', customerId, isCreate };
  }
  if (path === '/health') return { kind: 'health' };
  for (const prefix of REFERENCE_PREFIXES) {
    if (path === prefix || path.startsWith(prefix + '/')) return { kind: 'reference' };
  }
  if (path.length > API.length && path.startsWith(API)) return { kind: 'api' };
  return { kind: 'not-found' };
}
