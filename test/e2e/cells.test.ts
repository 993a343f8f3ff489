// Every endpoint of both example systems, against a real cell process started on its own with
// `cellctl serve` and the CELL_* variables, as the README documents.
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASIC_CONTRACT, ECOMMERCE_CONTRACT, runContract } from '../contracts.js';
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

describe('basic cell (the beginner example)', () => {
  let base: string;
  beforeAll(async () => (base = await serveCell('basic')));

  it('answers every request of the example as its code does', async () => {
    await runContract(BASIC_CONTRACT, base, { direct: true, cellOf: () => 'basic-test' });
  });

  it('answers 400 to a malformed percent-escape in the path and keeps serving', async () => {
    expect((await http('GET', `${base}/api/customers/a%E0%A4%A`)).status).toBe(400);
    expect((await http('DELETE', `${base}/api/customers/%`)).status).toBe(400);
    expect((await http('GET', `${base}/health`)).status).toBe(200);
  });

  it('deletes a customer (an addition), and answers 404 for unknown routes', async () => {
    expect((await http('POST', `${base}/api/customers/gone`, { name: 'Gone', email: 'gone@example.com' })).status).toBe(201);
    expect((await http('DELETE', `${base}/api/customers/gone`)).body).toEqual({ status: 'deleted', customer_id: 'gone' });
    expect((await http('GET', `${base}/api/customers/gone`)).status).toBe(404);
    expect((await http('DELETE', `${base}/api/customers/gone`)).status).toBe(404);
    expect((await http('GET', `${base}/api/nothing`)).status).toBe(404);
  });

  it('serves metrics as Prometheus text when asked', async () => {
    const text = await http('GET', `${base}/metrics`, undefined, { accept: 'text/plain' });
    expect(text.body).toMatch(/cell_customer_count\{cell="basic-test"\} \d+/);
  });
});

describe('ecommerce cell (the intermediate example)', () => {
  let base: string;
  beforeAll(async () => (base = await serveCell('ecommerce', { CELL_WORKER_INTERVAL_MS: '20', CELL_ORDER_PROCESSING_MS: '100' })));

  it('answers every request of the example as its code does', async () => {
    await runContract(ECOMMERCE_CONTRACT, base, { direct: true, cellOf: () => 'ecommerce-test' });
  });

  it('refuses unknown products, bad quantities and a second customer with the same email', async () => {
    await http('POST', `${base}/api/customers/fay`, { name: 'Fay', email: 'fay@example.com' });
    expect((await http('POST', `${base}/api/customers/fay/cart/items`, { product_id: 'nope' })).body).toMatchObject({ error: 'Product not found' });
    expect((await http('POST', `${base}/api/customers/fay/cart/items`, { product_id: 'sku-mouse', quantity: 0 })).status).toBe(400);
    expect((await http('POST', `${base}/api/customers/ghost/cart/items`, { product_id: 'sku-mouse' })).status).toBe(404);
    expect((await http('POST', `${base}/api/customers/fay2`, { name: 'F', email: 'fay@example.com' })).body).toMatchObject({ error: 'Email already exists' });
    expect((await http('GET', `${base}/api/products`)).body.products).toHaveLength(6);
  });

  it('fulfils an order through the in-cell queue and writes a notification', async () => {
    await http('POST', `${base}/api/customers/gus`, { name: 'Gus', email: 'gus@example.com' });
    await http('POST', `${base}/api/customers/gus/cart/items`, { product_id: 'sku-cable', quantity: 3 });
    const order = await http('POST', `${base}/api/customers/gus/orders`);
    expect(order.body).toMatchObject({ status: 'pending', total_amount: 27 });
    const seen = new Set<string>();
    await waitFor('order fulfilled', async () => {
      const current = await http('GET', `${base}/api/customers/gus/orders/${order.body.order_id}`);
      seen.add(current.body.status);
      return current.body.status === 'fulfilled';
    });
    expect(seen.has('processing') || seen.has('pending')).toBe(true);
    const notifications = await http('GET', `${base}/api/customers/gus/notifications`);
    expect(notifications.body.notifications).toEqual([expect.objectContaining({ order_id: order.body.order_id, channel: 'email' })]);
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
