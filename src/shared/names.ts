// Name rules shared by the CLI, the router and the templates. Pure: no I/O.
import { usageError } from './errors.js';

export const CELL_NAME = /^[a-z][a-z0-9-]{0,62}$/;
export const TEMPLATE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
/**
 * A customer id is whatever a client of the example systems would use (e-mail addresses, dotted
 * ids) that is still one safe path segment: RFC 3986's segment characters, no "%" (so nothing
 * decodes into something else), and not "." or "..".
 */
export const CUSTOMER_ID = /^(?!\.{1,2}$)[A-Za-z0-9\-._~!$&'()*+,;=:@]{1,128}$/;
/** Names that would collide with workspace folders of their own. */
const RESERVED_CELL_NAMES = new Set(['router', 'secrets', 'supervisor', 'logs']);

export function checkCellName(name: string): string {
  if (!CELL_NAME.test(name)) {
    throw usageError(`invalid cell name "${name}": use 1-63 characters, lower-case letters, digits and "-", starting with a letter (e.g. cell-1)`);
  }
  if (RESERVED_CELL_NAMES.has(name)) {
    throw usageError(`"${name}" is reserved for the workspace's own folders: choose another cell name`);
  }
  return name;
}

export function checkCustomerId(id: string): string {
  if (!CUSTOMER_ID.test(id)) {
    throw usageError(
      `invalid customer id "${id}": use 1-128 characters: letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = : @ (no "/", "%", spaces, and not "." or "..")`,
    );
  }
  return id;
}

export function parsePort(raw: string, flag = '--port'): number {
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isInteger(port) || port < 1024 || port > 65535) {
    throw usageError(`${flag} must be a whole number from 1024 to 65535, got "${raw}"`);
  }
  return port;
}

export function parsePositiveInt(raw: string, flag: string, max = 1_000_000_000): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > max) {
    throw usageError(`${flag} must be a whole number from 1 to ${max}, got "${raw}"`);
  }
  return value;
}

export function parseSeconds(raw: string, flag: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > 86_400) {
    throw usageError(`${flag} must be a number of seconds above 0 and at most 86400 (a day), e.g. 30; got "${raw}"`);
  }
  return value;
}

/** "90s", "30m", "24h", "7d" → milliseconds. */
export function parseDuration(raw: string, flag: string): number {
  const match = /^(\d+)(s|m|h|d)$/.exec(raw.trim());
  if (!match) throw usageError(`${flag} takes a duration like 30m, 24h or 7d, got "${raw}"`);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
