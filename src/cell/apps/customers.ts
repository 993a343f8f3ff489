// The customer resource both built-in apps keep, in the example systems' own shapes: the row has
// `customer_id`, `name`, `email`, `created_at` and the `cell_id` the row lives in (the e-commerce app
// adds a free-form JSON `address`, a unique email and `updated_at`). Errors are the examples' texts.
import type Database from 'better-sqlite3';
import { HttpError, type RouteDef } from '../../shared/http.js';

export interface CustomerRow {
  customer_id: string;
  name: string;
  email: string;
  address?: string | null;
  created_at: string;
  updated_at?: string;
  cell_id: string;
}

/** The example's GET answer: the row's columns, with the address parsed back into JSON. */
export function presentCustomer(row: CustomerRow): Record<string, unknown> {
  const { address, ...rest } = apiTimes(row);
  return address === undefined ? { ...rest } : { ...rest, address: address === null ? null : JSON.parse(address) };
}

/** A stored time (ISO 8601 in UTC, `2026-12-07T04:01:02.232Z`: it sorts as text). */
const STORED_TIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/;

/**
 * A stored time as the examples answer times (Python's `datetime.utcnow().isoformat()`): no zone,
 * six fraction digits (`2026-12-07T04:01:02.232000`; the clock has milliseconds, padded). Rows keep
 * the stored form; only answers change, so rows written before this read the same way.
 */
export function apiTime(stored: string): string {
  const match = STORED_TIME.exec(stored);
  return match ? `${match[1]}.${(match[2] ?? '').padEnd(6, '0').slice(0, 6)}` : stored;
}

/** A row with each `…_at` time in the examples' form (apiTime). */
export function apiTimes<T extends object>(row: T): T {
  const out: Record<string, unknown> = { ...(row as Record<string, unknown>) };
  for (const [key, value] of Object.entries(out)) if (key.endsWith('_at') && typeof value === 'string') out[key] = apiTime(value);
  return out as T;
}

export const customerNotFound = () => new HttpError('customer_not_found', 'Customer not found');

export function findCustomer(db: Database.Database, id: string): CustomerRow {
  const row = db.prepare('SELECT * FROM customers WHERE customer_id = ?').get(id) as CustomerRow | undefined;
  if (!row) throw customerNotFound();
  return row;
}

export function requireCustomer(db: Database.Database, id: string): void {
  if (!db.prepare('SELECT 1 FROM customers WHERE customer_id = ?').get(id)) throw customerNotFound();
}

/** Maps SQLite's constraint errors to the examples' answers. */
export function conflictOnDuplicate<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    if (message.includes('customers.email')) throw new HttpError('email_taken', 'Email already exists');
    if (message.includes('customers.customer_id')) throw new HttpError('customer_exists', 'Customer already exists');
    throw error;
  }
}

/** A JSON object body, or null when there is none (no body, not JSON, not an object): the examples' "no data". */
export async function objectBody(body: () => Promise<unknown>): Promise<Record<string, unknown> | null> {
  let value: unknown;
  try {
    value = await body();
  } catch (error) {
    if (error instanceof HttpError && error.code === 'invalid_body') return null;
    throw error;
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** The examples require both fields on create, as text. */
export function nameAndEmail(data: Record<string, unknown> | null): { name: string; email: string } {
  if (!data || typeof data.name !== 'string' || typeof data.email !== 'string') throw new HttpError('name_and_email_required', 'Name and email are required');
  return { name: data.name, email: data.email };
}

/** The fields a PUT may change, each checked to be text when given. */
export function changedText(data: Record<string, unknown>, fields: readonly string[]): Record<string, string> {
  const changes: Record<string, string> = {};
  for (const field of fields) {
    if (!(field in data)) continue;
    if (typeof data[field] !== 'string') throw new HttpError('invalid_field', `${field[0]!.toUpperCase()}${field.slice(1)} must be text`);
    changes[field] = data[field];
  }
  return changes;
}

export const nowIso = (): string => new Date().toISOString();

/** GET /api/customers/:id, the same in both examples: the row, or 404 "Customer not found". */
export const readCustomerRoute = (db: Database.Database): RouteDef => ({
  method: 'GET',
  path: '/api/customers/:id',
  handler: ({ params }) => ({ status: 200, body: presentCustomer(findCustomer(db, params.id!)) }),
});
