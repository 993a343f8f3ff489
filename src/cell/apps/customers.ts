// The customer resource both built-in apps share: validation and the SQLite statements.
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { HttpError, parseWith } from '../../shared/http.js';

const email = z.email('must be an e-mail address like ada@example.com');

export const addressSchema = z.strictObject({
  line1: z.string().min(1),
  line2: z.string().optional(),
  city: z.string().min(1),
  postalCode: z.string().min(1),
  country: z.string().length(2, 'must be a two-letter country code'),
});

export function customerSchemas(withAddress: boolean) {
  const base = { name: z.string().trim().min(1, 'is required'), email };
  const address = withAddress ? { address: addressSchema.nullable().optional() } : {};
  const create = z.strictObject({ ...base, ...address });
  const update = z
    .strictObject({ name: base.name.optional(), email: email.optional(), ...address })
    .refine((value) => Object.keys(value).length > 0, 'give at least one field to change');
  return { create, update };
}

export interface CustomerRow {
  id: string;
  name: string;
  email: string;
  address?: string | null;
  created_at: string;
  updated_at: string;
}

export function presentCustomer(row: CustomerRow): Record<string, unknown> {
  const customer: Record<string, unknown> = {
    id: row.id,
    name: row.name,
    email: row.email,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.address !== undefined) customer.address = row.address === null ? null : JSON.parse(row.address);
  return customer;
}

export function findCustomer(db: Database.Database, id: string): CustomerRow {
  const row = db.prepare('SELECT * FROM customers WHERE id = ?').get(id) as CustomerRow | undefined;
  if (!row) throw new HttpError(404, `customer ${id} not found`, 'not_found');
  return row;
}

/** Maps SQLite's constraint errors to the HTTP answer a client can act on. */
export function conflictOnDuplicate<T>(id: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    if (message.includes('customers.email')) throw new HttpError(409, 'another customer already has this email', 'conflict');
    if (message.includes('customers.id')) throw new HttpError(409, `customer ${id} already exists`, 'conflict');
    throw error;
  }
}

/** GET/POST/PUT/DELETE /api/customers/:id, plus a cell-local listing. */
export function customerRoutes(db: Database.Database, withAddress: boolean): import('../../shared/http.js').RouteDef[] {
  const schemas = customerSchemas(withAddress);
  const columns = withAddress ? 'id, name, email, address, created_at, updated_at' : 'id, name, email, created_at, updated_at';
  const insert = withAddress
    ? db.prepare('INSERT INTO customers (id, name, email, address, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
    : db.prepare('INSERT INTO customers (id, name, email, created_at, updated_at) VALUES (?, ?, ?, ?, ?)');
  const list = db.prepare(`SELECT ${columns} FROM customers WHERE id > ? ORDER BY id LIMIT ?`);

  return [
    {
      method: 'GET',
      path: '/api/customers',
      handler: ({ query }) => {
        const limit = Math.min(Number(query.get('limit') ?? 100) || 100, 1000);
        const rows = list.all(query.get('after') ?? '', limit) as CustomerRow[];
        return { status: 200, body: { customers: rows.map(presentCustomer) } };
      },
    },
    {
      method: 'GET',
      path: '/api/customers/:id',
      handler: ({ params }) => ({ status: 200, body: presentCustomer(findCustomer(db, params.id!)) }),
    },
    {
      method: 'POST',
      path: '/api/customers/:id',
      handler: async ({ params, body }) => {
        const id = params.id!;
        const input = parseWith(schemas.create, await body()) as { name: string; email: string; address?: unknown };
        const at = new Date().toISOString();
        conflictOnDuplicate(id, () =>
          withAddress
            ? insert.run(id, input.name, input.email, input.address ? JSON.stringify(input.address) : null, at, at)
            : insert.run(id, input.name, input.email, at, at),
        );
        return { status: 201, body: presentCustomer(findCustomer(db, id)), headers: { location: `/api/customers/${id}` } };
      },
    },
    {
      method: 'PUT',
      path: '/api/customers/:id',
      handler: async ({ params, body }) => {
        const id = params.id!;
        const input = parseWith(schemas.update, await body()) as Record<string, unknown>;
        const current = findCustomer(db, id);
        const next = {
          name: (input.name as string | undefined) ?? current.name,
          email: (input.email as string | undefined) ?? current.email,
          address: 'address' in input ? (input.address ? JSON.stringify(input.address) : null) : current.address,
        };
        const at = new Date().toISOString();
        conflictOnDuplicate(id, () =>
          withAddress
            ? db.prepare('UPDATE customers SET name = ?, email = ?, address = ?, updated_at = ? WHERE id = ?').run(next.name, next.email, next.address, at, id)
            : db.prepare('UPDATE customers SET name = ?, email = ?, updated_at = ? WHERE id = ?').run(next.name, next.email, at, id),
        );
        return { status: 200, body: presentCustomer(findCustomer(db, id)) };
      },
    },
    {
      method: 'DELETE',
      path: '/api/customers/:id',
      handler: ({ params }) => {
        const removed = db.prepare('DELETE FROM customers WHERE id = ?').run(params.id!).changes;
        if (removed === 0) throw new HttpError(404, `customer ${params.id} not found`, 'not_found');
        return { status: 204 };
      },
    },
  ];
}
