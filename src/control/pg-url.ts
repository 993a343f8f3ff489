// A PostgreSQL control URL: its shape checked before any connection, and its password kept out of
// every message. Apart from the connection (pg-connection.ts) so that printing or checking a URL
// does not load the PostgreSQL driver.
import { failure } from '../shared/errors.js';

/** The URL with its password (in the authority or a `password` parameter) replaced, safe for any message or log. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(a connection string that is not a URL)';
  }
  if (parsed.password) parsed.password = '***';
  if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
  return parsed.toString();
}

/** Every spelling of the URL's password, so a message that quotes it can be cleaned. */
export function passwordsIn(url: string): string[] {
  try {
    const parsed = new URL(url);
    const found = [parsed.password, parsed.searchParams.get('password') ?? ''].filter((p) => p.length > 0);
    return [...new Set(found.flatMap((p) => [p, safeDecode(p), encodeURIComponent(safeDecode(p))]))];
  } catch {
    return [];
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Checks a control URL's shape before any connection; the error names the URL without its password. */
export function validatePgUrl(url: string): void {
  const fix = 'write it as postgres://user:password@host:5432/database';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw failure(`the control URL ${redactUrl(url)} cannot be read: ${fix}`, 'E_CONTROL_URL');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw failure(`the control URL ${redactUrl(url)} is not a PostgreSQL URL (postgres://…): ${fix}`, 'E_CONTROL_URL');
  }
  if (!parsed.hostname && !parsed.searchParams.get('host')) throw failure(`the control URL ${redactUrl(url)} names no host: ${fix}`, 'E_CONTROL_URL');
  if (parsed.pathname.length <= 1) throw failure(`the control URL ${redactUrl(url)} names no database: ${fix}`, 'E_CONTROL_URL');
}
