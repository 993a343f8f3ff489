// Every endpoint of both example systems, against a real cell process started on its own with
// `cellctl serve` and the CELL_* variables, as the README documents.
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cleanup, freePort, http, spawnTracked, tempDir, waitFor } from '../helpers.js';

afterAll(cleanup);

/** Everything each served cell wrote (its log lines and errors), by base URL. */
const outputs = new Map<string, () => string>();

async function serveCell(template: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
  const dir = tempDir();
  const port = await freePort();
  const child = spawnTracked(process.execPath, [CLI, 'serve', '--template', template], {
    CELL_ID: `${template}-test`,
    PORT: String(port),
    CELL_DB: path.join(dir, 'data.db'),
    CELL_HOME: dir,
    ...extraEnv,
  });
  let output = '';
  child.stderr?.on('data', (chunk) => (output += chunk));
  child.stdout?.on('data', (chunk) => (output += chunk));
  const base = `http://127.0.0.1:${port}`;
  outputs.set(base, () => output);
  await waitFor(`${template} cell on ${port} (${output})`, async () => (await http('GET', `${base}/health`)).status === 200);
  return base;
}

describe('basic cell', () => {
  let base: string;
  beforeAll(async () => (base = await serveCell('basic')));

  it('creates, reads, updates and deletes a customer', async () => {
    const created = await http('POST', `${base}/api/customers/ada`, { name: 'Ada', email: 'ada@example.com' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'ada', name: 'Ada', email: 'ada@example.com' });
    expect((await http('GET', `${base}/api/customers/ada`)).body).toMatchObject({ name: 'Ada' });
    const updated = await http('PUT', `${base}/api/customers/ada`, { name: 'Ada L.' });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: 'Ada L.', email: 'ada@example.com' });
    expect((await http('DELETE', `${base}/api/customers/ada`)).status).toBe(204);
    expect((await http('GET', `${base}/api/customers/ada`)).status).toBe(404);
  });

  it('answers 409 on a duplicate id or email', async () => {
    await http('POST', `${base}/api/customers/bob`, { name: 'Bob', email: 'bob@example.com' });
    expect((await http('POST', `${base}/api/customers/bob`, { name: 'B', email: 'other@example.com' })).status).toBe(409);
    const dupEmail = await http('POST', `${base}/api/customers/bob2`, { name: 'B', email: 'bob@example.com' });
    expect(dupEmail.status).toBe(409);
    expect(dupEmail.body.message).toMatch(/email/);
    await http('POST', `${base}/api/customers/carol`, { name: 'Carol', email: 'carol@example.com' });
    expect((await http('PUT', `${base}/api/customers/carol`, { email: 'bob@example.com' })).status).toBe(409);
  });

  it('answers 400 on missing or malformed fields, naming them', async () => {
    const missing = await http('POST', `${base}/api/customers/dan`, { name: 'Dan' });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/email/);
    expect((await http('POST', `${base}/api/customers/dan`, { name: '', email: 'dan@example.com' })).status).toBe(400);
    expect((await http('POST', `${base}/api/customers/dan`, { name: 'Dan', email: 'not-an-email' })).status).toBe(400);
    expect((await http('POST', `${base}/api/customers/dan`, '{broken')).status).toBe(400);
    expect((await http('PUT', `${base}/api/customers/carol`, {})).status).toBe(400);
  });

  it('answers 404 for unknown customers and routes', async () => {
    expect((await http('PUT', `${base}/api/customers/nobody`, { name: 'X' })).status).toBe(404);
    expect((await http('DELETE', `${base}/api/customers/nobody`)).status).toBe(404);
    expect((await http('GET', `${base}/api/nothing`)).status).toBe(404);
  });

  it('reports health with a database check, and metrics as JSON or Prometheus text', async () => {
    const health = await http('GET', `${base}/health`);
    expect(health.body).toMatchObject({ status: 'ok', cell: 'basic-test', checks: [{ name: 'database', ok: true }] });
    const metrics = await http('GET', `${base}/metrics`);
    expect(metrics.body).toMatchObject({ cell: 'basic-test', customers: 2 });
    expect(Date.parse(metrics.body.timestamp)).toBeGreaterThan(0);
    const text = await http('GET', `${base}/metrics`, undefined, { accept: 'text/plain' });
    expect(text.body).toMatch(/cell_customers\{cell="basic-test"\} 2/);
  });
});

describe('ecommerce cell', () => {
  let base: string;
  beforeAll(async () => (base = await serveCell('ecommerce', { CELL_WORKER_INTERVAL_MS: '20', CELL_ORDER_PROCESSING_MS: '100' })));
  const address = { line1: '1 Main St', city: 'Porto', postalCode: '4000', country: 'PT' };

  it('keeps customers with a JSON address', async () => {
    const created = await http('POST', `${base}/api/customers/eve`, { name: 'Eve', email: 'eve@example.com', address });
    expect(created.status).toBe(201);
    expect(created.body.address).toEqual(address);
    expect((await http('POST', `${base}/api/customers/eve2`, { name: 'Eve', email: 'e2@example.com', address: { city: 'X' } })).status).toBe(400);
  });

  it('serves products as reference data', async () => {
    const products = await http('GET', `${base}/api/products`);
    expect(products.body.products).toHaveLength(6);
    expect((await http('GET', `${base}/api/products/sku-mouse`)).body).toEqual({ id: 'sku-mouse', name: 'Wireless mouse', priceCents: 2900 });
    expect((await http('GET', `${base}/api/products/nope`)).status).toBe(404);
  });

  it('fills a cart, refusing unknown products and bad quantities', async () => {
    expect((await http('POST', `${base}/api/customers/eve/cart/items`, { productId: 'sku-mouse', quantity: 2 })).status).toBe(201);
    const cart = await http('POST', `${base}/api/customers/eve/cart/items`, { productId: 'sku-cable', quantity: 3 });
    expect(cart.body).toMatchObject({ totalCents: 2 * 2900 + 3 * 900, items: [{ productId: 'sku-mouse', quantity: 2 }, { productId: 'sku-cable', quantity: 3 }] });
    expect((await http('POST', `${base}/api/customers/eve/cart/items`, { productId: 'nope', quantity: 1 })).status).toBe(400);
    expect((await http('POST', `${base}/api/customers/eve/cart/items`, { productId: 'sku-mouse', quantity: 0 })).status).toBe(400);
    expect((await http('POST', `${base}/api/customers/ghost/cart/items`, { productId: 'sku-mouse', quantity: 1 })).status).toBe(404);
    expect((await http('GET', `${base}/api/customers/ghost/cart`)).status).toBe(404);
  });

  it('makes an order from the cart at current prices, clears the cart, and fulfils it through the queue', async () => {
    const order = await http('POST', `${base}/api/customers/eve/orders`);
    expect(order.status).toBe(201);
    expect(order.body).toMatchObject({ status: 'pending', totalCents: 2 * 2900 + 3 * 900, customerId: 'eve' });
    expect(order.body.items).toEqual(expect.arrayContaining([{ productId: 'sku-cable', quantity: 3, unitPriceCents: 900 }]));
    expect((await http('GET', `${base}/api/customers/eve/cart`)).body.items).toEqual([]);
    const seen = new Set<string>();
    await waitFor('order fulfilled', async () => {
      const current = await http('GET', `${base}/api/customers/eve/orders/${order.body.id}`);
      seen.add(current.body.status);
      return current.body.status === 'fulfilled';
    });
    expect(seen.has('processing') || seen.has('pending')).toBe(true);
    const notifications = await http('GET', `${base}/api/customers/eve/notifications`);
    expect(notifications.body.notifications).toEqual([expect.objectContaining({ orderId: order.body.id, channel: 'email' })]);
    expect((await http('GET', `${base}/api/customers/eve/orders`)).body.orders).toHaveLength(1);
  });

  it('refuses an order from an empty cart, and unknown orders', async () => {
    const empty = await http('POST', `${base}/api/customers/eve/orders`);
    expect(empty.status).toBe(400);
    expect(empty.body.error).toBe('empty_cart');
    expect((await http('GET', `${base}/api/customers/eve/orders/nope`)).status).toBe(404);
  });

  it('reports a check per dependency and shop metrics', async () => {
    const health = await http('GET', `${base}/health`);
    expect(health.body.checks.map((check: { name: string }) => check.name)).toEqual(['database', 'cache', 'queue']);
    expect((await http('GET', `${base}/metrics`)).body).toMatchObject({ customers: 1, orders_24h: 1, pending_orders: 0, products_cached: 6 });
  });
});

describe('a cell whose database another process holds write-locked', () => {
  it('keeps answering other requests while a write waits, then finishes the write', async () => {
    const dbFile = path.join(tempDir(), 'locked.db');
    const base = await serveCell('basic', { CELL_DB: dbFile });
    const locker = new Database(dbFile);
    locker.pragma('busy_timeout = 0');
    locker.exec('BEGIN IMMEDIATE');
    let writeAnswered = false;
    const write = http('POST', `${base}/api/customers/late`, { name: 'Late', email: 'late@example.com' }).finally(() => (writeAnswered = true));
    try {
      await waitFor('the write to find the database busy', () => outputs.get(base)!().includes('database busy'));
      // A cell that waited inside SQLite would answer this only after the write gave up.
      expect((await http('GET', `${base}/health`)).status).toBe(200);
      expect(writeAnswered).toBe(false);
    } finally {
      locker.exec('COMMIT');
      locker.close();
    }
    expect((await write).status).toBe(201);
    expect((await http('GET', `${base}/api/customers/late`)).status).toBe(200);
  });
});
