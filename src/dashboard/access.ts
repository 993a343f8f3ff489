// Who may see the dashboard: whoever holds the token printed with its URL, given in the query (the
// first visit), as a bearer header (scripts), or in the cookie the first visit sets. Pure.
import { timingSafeEqual } from 'node:crypto';

/** One cookie per port: browsers share cookies across the ports of a host. */
export const cookieName = (port: number): string => `cellctl_dashboard_${port}`;

function same(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

export interface AccessRequest {
  url: URL;
  authorization: string | undefined;
  cookie: string | undefined;
  port: number;
}

/** How the request showed the token; null when it did not (the server answers 401). */
export function tokenShown(request: AccessRequest, token: string): 'query' | 'header' | 'cookie' | null {
  if (same(request.url.searchParams.get('token') ?? undefined, token)) return 'query';
  const bearer = request.authorization?.startsWith('Bearer ') ? request.authorization.slice('Bearer '.length) : undefined;
  if (same(bearer, token)) return 'header';
  if (same(cookieValue(request.cookie, cookieName(request.port)), token)) return 'cookie';
  return null;
}

/** The cookie that lets the page's own requests (assets, events, search) in without the query. */
export function accessCookie(port: number, token: string): string {
  return `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}
