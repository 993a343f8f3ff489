// An ecommerce system for migration tests: started with fast restarts and no rate limit, shoppers
// seeded through the router, a customer's rows read straight from a cell's data.db, and a move paused
// at a step until the test lets it go on.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { cli, cliJson, http, type RunningSystem, startSystem, waitFor, type Workspace } from './helpers.js';

export const shopper = (id: string) => ({ name: `Shopper ${id}`, email: `${id}@example.com` });

/** Ecommerce cells, started, with fast restarts and no rate limit in the way of the load. */
export const shop = (cells: string[], settings: Record<string, unknown> = {}): Promise<RunningSystem> =>
  startSystem('ecommerce', cells, {
    supervisor: { backoffInitialMs: 100, healthIntervalMs: 300 },
    limits: { rateLimit: { requests: 1_000_000, windowSeconds: 1 } },
    ...settings,
  });

/** Rows the customer has in one cell's data.db, per customer-scoped table. */
export function rowsIn(ws: Workspace, cell: string, customerId: string): Record<string, number> {
  const db = new Database(path.join(ws.home, cell, 'data.db'), { readonly: true });
  try {
    const count = (sql: string) => (db.prepare(sql).get(customerId) as { n: number }).n;
    return {
      customers: count('SELECT COUNT(*) AS n FROM customers WHERE customer_id = ?'),
      cart_items: count('SELECT COUNT(*) AS n FROM cart_items WHERE customer_id = ?'),
      orders: count('SELECT COUNT(*) AS n FROM orders WHERE customer_id = ?'),
      order_items: count('SELECT COUNT(*) AS n FROM order_items WHERE customer_id = ?'),
      order_events: count('SELECT COUNT(*) AS n FROM order_events WHERE customer_id = ?'),
    };
  } finally {
    db.close();
  }
}

export const none = { customers: 0, cart_items: 0, orders: 0, order_items: 0, order_events: 0 };

export async function mappedCell(ws: Workspace, customerId: string): Promise<string> {
  return (await cliJson(ws.home, ['route', customerId])).cell;
}

export async function seedShopper(ws: RunningSystem, id: string, orders: number): Promise<void> {
  expect((await http('POST', `${ws.url}/api/customers/${id}`, shopper(id))).status).toBe(201);
  for (let i = 0; i < orders; i += 1) {
    await http('POST', `${ws.url}/api/customers/${id}/cart/items`, { product_id: 'sku-cable', quantity: 1 + i });
    expect((await http('POST', `${ws.url}/api/customers/${id}/orders`)).status).toBe(201);
  }
  await http('POST', `${ws.url}/api/customers/${id}/cart/items`, { product_id: 'sku-mouse', quantity: 2 });
}

/** Runs a cellctl command that stops at pause point `step` until the test lets it go on (see src/shared/test-hooks.ts). */
export async function pausedCommand(ws: Workspace, args: string[], step: string, tag: string) {
  const file = path.join(ws.home, '..', `pause-${tag}-${step}`);
  const done = cli(ws.home, args, { CELLCTL_PAUSE_AFTER_STEP: step, CELLCTL_PAUSE_FILE: file });
  const pid = await waitFor(
    `"cellctl ${args.join(' ')}" to reach "${step}"`,
    () => fs.existsSync(`${file}.reached`) && Number(fs.readFileSync(`${file}.reached`, 'utf8')),
  );
  return { pid, done, goOn: () => fs.writeFileSync(file, '') };
}

/** Runs a move that stops after `step` until the test lets it go on. */
export const pausedMove = (ws: Workspace, customerId: string, target: string, step: string) =>
  pausedCommand(ws, ['migrate', 'customer', customerId, '--to', target], step, customerId);
