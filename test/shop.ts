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
    () => fs.existsSync(`${file}.reached`) && (Number(fs.readFileSync(`${file}.reached`, 'utf8')) || undefined),
  );
  return { pid, done, goOn: () => fs.writeFileSync(file, '') };
}

/** Runs a move that stops after `step` until the test lets it go on. */
export const pausedMove = (ws: Workspace, customerId: string, target: string, step: string) =>
  pausedCommand(ws, ['migrate', 'customer', customerId, '--to', target], step, customerId);

export interface WriteTally {
  ackedAdds: number;
  ackedOrders: number;
  /** Writes answered 502 cell_connection_lost while a cell restarted: they may have landed (allowed only with `unavailableAllowed`). */
  uncertainAdds: number;
  uncertainOrders: number;
  failures: string[];
}

/**
 * Three clients writing to one customer through the router (cart adds, and every seventh request an
 * order) until stopped, or for at most `maxRequests` each. Counts what was acknowledged.
 */
export function startWriters(ws: RunningSystem, customerId: string, maxRequests = 5_000, unavailableAllowed = false) {
  let stop = false;
  const tally: WriteTally = { ackedAdds: 0, ackedOrders: 0, uncertainAdds: 0, uncertainOrders: 0, failures: [] };
  const writer = async (worker: number) => {
    for (let n = 1; !stop && n <= maxRequests; n += 1) {
      const placeOrder = n % 7 === 0;
      const send = placeOrder
        ? http('POST', `${ws.url}/api/customers/${customerId}/orders`)
        : http('POST', `${ws.url}/api/customers/${customerId}/cart/items`, { product_id: worker % 2 ? 'sku-mouse' : 'sku-cable', quantity: 1 });
      // With `unavailableAllowed` (a test restarts a cell or the router): a refused connection or a 503 cell_unavailable never landed, so it is simply not acknowledged.
      const response = await send.catch((error: unknown) => {
        if (unavailableAllowed) return null;
        throw error;
      });
      if (response === null || (unavailableAllowed && response.status === 503 && response.body?.code === 'cell_unavailable')) continue;
      if (unavailableAllowed && response.status === 502 && response.body?.code === 'cell_connection_lost') {
        if (placeOrder) tally.uncertainOrders += 1;
        else tally.uncertainAdds += 1;
        continue;
      }
      if (response.status >= 500) tally.failures.push(`${response.status} ${JSON.stringify(response.body)}`);
      else if (placeOrder && response.status === 201) tally.ackedOrders += 1;
      else if (!placeOrder && response.status === 200) tally.ackedAdds += 1;
      else if (!(placeOrder && response.status === 400)) tally.failures.push(`unexpected ${response.status} ${JSON.stringify(response.body)}`);
    }
  };
  const writers = [writer(0), writer(1), writer(2)];
  return {
    tally,
    /** Resolves once at least `count` writes more than now were acknowledged. */
    progressed: (count: number) => {
      const target = tally.ackedAdds + tally.ackedOrders + count;
      return waitFor(
        `${count} more acknowledged writes`,
        () => tally.ackedAdds + tally.ackedOrders >= target || (tally.failures.length > 0 && tally.failures.join('; ')) || stop,
      );
    },
    stop: async (): Promise<WriteTally> => {
      stop = true;
      await Promise.all(writers);
      return tally;
    },
  };
}

/** Every acknowledged write is in the customer's one cell, once; the other cell holds none of its rows. */
export async function expectAllWritesKept(
  ws: RunningSystem,
  customerId: string,
  home: string,
  away: string,
  tally: WriteTally,
  before = { orders: 0, items: 0 },
): Promise<void> {
  expect(tally.failures).toEqual([]);
  const orders = (await http('GET', `${ws.url}/api/customers/${customerId}/orders`)).body.orders;
  const cart = (await http('GET', `${ws.url}/api/customers/${customerId}/cart`)).body.items;
  const ordered = orders.reduce((sum: number, order: { items: { quantity: number }[] }) => sum + order.items.reduce((s, item) => s + item.quantity, 0), 0);
  const inCart = cart.reduce((sum: number, item: { quantity: number }) => sum + item.quantity, 0);
  // Every acknowledged write once; a write whose answer was lost (502) at most once.
  expect(orders.length).toBeGreaterThanOrEqual(before.orders + tally.ackedOrders);
  expect(orders.length).toBeLessThanOrEqual(before.orders + tally.ackedOrders + tally.uncertainOrders);
  // Rows record their cell (the template's cellColumn): every one now says the cell it lives in.
  expect(orders.map((order: { cell_id: string }) => order.cell_id)).toEqual(orders.map(() => home));
  expect((await http('GET', `${ws.url}/api/customers/${customerId}`)).body.cell_id).toBe(home);
  expect(ordered + inCart).toBeGreaterThanOrEqual(before.items + tally.ackedAdds);
  expect(ordered + inCart).toBeLessThanOrEqual(before.items + tally.ackedAdds + tally.uncertainAdds);
  expect(rowsIn(ws, away, customerId)).toEqual(none);
  expect(rowsIn(ws, home, customerId).orders).toBe(orders.length);
  expect(await mappedCell(ws, customerId)).toBe(home);
}
