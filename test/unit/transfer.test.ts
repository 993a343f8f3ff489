// A customer's rows moving between two cells through their data APIs (migration/transfer.ts): real
// SQLite files, each served by a real data API server on 127.0.0.1, reached over HTTP.
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCellDatabase } from '../../src/cell/datadb.js';
import { DataApiError, HttpDataApi } from '../../src/data/client.js';
import { type DataApi, type ImportAnswer, PAGE_ROWS } from '../../src/data/protocol.js';
import { type RunningDataApi, startDataApi } from '../../src/data/server.js';
import { parseDataTables } from '../../src/data/tables.js';
import { CopyMismatch, Transfer } from '../../src/migration/transfer.js';
import { BUILTIN_TEMPLATES_DIR, findTemplate, readTemplateSql } from '../../src/templates/catalog.js';
import { cleanup, tempDir } from '../helpers.js';

const template = findTemplate('ecommerce', [BUILTIN_TEMPLATES_DIR]);
const tables = parseDataTables(template.customerTables);
const TOKEN = 'a-token-for-these-tests-only';
const servers: RunningDataApi[] = [];
const clients: HttpDataApi[] = [];

afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all(servers.map((server) => server.close()));
  await cleanup();
});

/** A new ecommerce data.db served by a data API as `cellId`; returns its file and a client. */
async function cell(cellId: string): Promise<{ file: string; api: HttpDataApi }> {
  const file = path.join(tempDir(), 'data.db');
  createCellDatabase(file, readTemplateSql(template), template.schema.version);
  const server = await startDataApi({ dbFile: file, cellId, tables, token: TOKEN, host: '127.0.0.1', port: 0 });
  servers.push(server);
  const api = new HttpDataApi(cellId, `http://127.0.0.1:${server.port}`, TOKEN);
  clients.push(api);
  return { file, api };
}

function seed(file: string, customerId: string, orders: number): void {
  const db = new Database(file);
  db.prepare("INSERT INTO customers VALUES (?, ?, 'n', NULL, 't', 't', 'cell-a')").run(customerId, `${customerId}@x.io`);
  db.prepare("INSERT INTO cart_items VALUES (?, 'sku-mouse', 2, 't')").run(customerId);
  for (let i = 0; i < orders; i += 1) {
    const order = `${customerId}-o${i}`;
    db.prepare("INSERT INTO orders VALUES (?, ?, 'pending', 900, 't', 't', 'cell-a')").run(order, customerId);
    db.prepare("INSERT INTO order_items VALUES (?, ?, 'sku-cable', 1, 900, 't')").run(order, customerId);
    db.prepare("INSERT INTO order_events VALUES (?, ?, ?, 'order.placed', 'queued', 0, 0, 't')").run(`${order}-e`, order, customerId);
  }
  db.close();
}

const rowsOf = async (api: DataApi, customerId: string) =>
  Object.fromEntries((await api.summary([customerId])).tables.map((table) => [table.table, table.rows]));

/** An app's own write, on its own connection, as a cell's app makes it. */
function appWrite(file: string, sql: string): 'ok' | string {
  const db = new Database(file);
  try {
    db.exec(sql);
    return 'ok';
  } catch (error) {
    return (error as Error).message;
  } finally {
    db.close();
  }
}

describe('moving rows through the data API', () => {
  it('copies every customer-scoped row, verifies, is idempotent, and purges', async () => {
    const a = await cell('cell-a');
    const b = await cell('cell-b');
    seed(a.file, 'acme', 3);
    seed(a.file, 'other', 1);
    const transfer = new Transfer(a.api, b.api, { move: 1, fencing: 1, customers: ['acme'] });
    await transfer.prepareTarget();
    const first = await transfer.copy();
    expect(Object.fromEntries(first.map((t) => [t.table, t.targetRows]))).toEqual({
      customers: 1,
      cart_items: 1,
      orders: 3,
      order_items: 3,
      order_events: 3,
      notifications: 0,
    });
    await transfer.prepareTarget();
    expect(await transfer.copy()).toEqual(first);
    expect(await transfer.verify()).toEqual(first);
    expect((await rowsOf(b.api, 'other')).customers).toBe(0);
    await transfer.purge('source');
    expect(await rowsOf(a.api, 'acme')).toEqual({ customers: 0, cart_items: 0, orders: 0, order_items: 0, order_events: 0, notifications: 0 });
    expect((await rowsOf(a.api, 'other')).orders).toBe(1);
    // The rows record their new cell (the template's cellColumn).
    const copied = new Database(b.file, { readonly: true });
    expect(copied.prepare("SELECT DISTINCT cell_id FROM orders WHERE customer_id = 'acme'").pluck().all()).toEqual(['cell-b']);
    copied.close();
  });

  it('bars the source from the copy until the purge and the target until it is handed over: no app writes the moving customer meanwhile, others write on', async () => {
    const a = await cell('cell-a');
    const b = await cell('cell-b');
    seed(a.file, 'acme', 1);
    seed(a.file, 'other', 1);
    bigCustomer(a.file, 'acme', PAGE_ROWS + 10);
    const transfer = new Transfer(a.api, b.api, { move: 7, fencing: 3, customers: ['acme'] });
    await transfer.prepareTarget();
    const during: string[] = [];
    await transfer.copy(async () => {
      if (during.length > 0) return;
      during.push(appWrite(a.file, "UPDATE orders SET status = 'fulfilled' WHERE customer_id = 'acme'"));
      during.push(appWrite(a.file, "INSERT INTO cart_items VALUES ('acme', 'sku-cable', 1, 't')"));
      during.push(appWrite(a.file, "DELETE FROM cart_items WHERE customer_id = 'acme'"));
      // The target's app cannot change the copy while it is compared.
      during.push(appWrite(b.file, "UPDATE orders SET status = 'fulfilled' WHERE customer_id = 'acme'"));
      during.push(appWrite(a.file, "UPDATE orders SET status = 'fulfilled' WHERE customer_id = 'other'"));
    });
    expect(during.slice(0, 4)).toEqual([
      expect.stringMatching(/barred/),
      expect.stringMatching(/barred/),
      expect.stringMatching(/barred/),
      expect.stringMatching(/barred/),
    ]);
    expect(during[4]).toBe('ok');
    expect((await a.api.barriers()).barriers).toMatchObject([{ customer: 'acme', move: 7 }]);
    expect(appWrite(a.file, "UPDATE orders SET status = 'fulfilled' WHERE customer_id = 'acme'")).toMatch(/barred/);
    // Verified, the target stays barred until it is handed over (after the switch): then its app writes freely.
    expect(appWrite(b.file, "UPDATE orders SET status = 'fulfilled' WHERE customer_id = 'acme'")).toMatch(/barred/);
    await transfer.handOver();
    expect((await b.api.barriers()).barriers).toEqual([]);
    expect(appWrite(b.file, "UPDATE orders SET status = 'fulfilled' WHERE customer_id = 'acme'")).toBe('ok');
    await transfer.purge('source');
    expect((await a.api.barriers()).barriers).toEqual([]);
  });

  it('holds a small customer for one export and one import: bar, rows and summaries ride along', async () => {
    const a = await cell('cell-a');
    const b = await cell('cell-b');
    seed(a.file, 'acme', 3);
    const calls: string[] = [];
    const counted = (api: DataApi, side: string): DataApi =>
      new Proxy(api, {
        get(target, name, receiver) {
          const value = Reflect.get(target, name, receiver);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            calls.push(`${side}.${String(name)}`);
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    const transfer = new Transfer(counted(a.api, 'source'), counted(b.api, 'target'), { move: 9, fencing: 9, customers: ['acme'] });
    await transfer.prepareTarget();
    calls.length = 0;
    let confirmedBeside = 0;
    const report = await transfer.copy(undefined, async () => {
      confirmedBeside += 1;
      // Runs beside the first export: that was sent already, the import not yet.
      expect(calls).toEqual(['source.export']);
    });
    expect(calls).toEqual(['source.export', 'target.import']);
    expect(confirmedBeside).toBe(1);
    expect(report.map((t) => t.targetRows)).toEqual([1, 1, 3, 3, 3, 0]);
    expect((await a.api.barriers()).barriers).toMatchObject([{ customer: 'acme', move: 9 }]);
    // The target stays barred until it is handed over after the switch (one call, outside the copy).
    expect((await b.api.barriers()).barriers).toMatchObject([{ customer: 'acme', move: 9 }]);
    await transfer.handOver();
    expect((await b.api.barriers()).barriers).toEqual([]);
  });

  it('copies a big customer page by page while both cells keep taking writes of other customers', async () => {
    const a = await cell('cell-a');
    const b = await cell('cell-b');
    seed(a.file, 'acme', 1);
    seed(a.file, 'other', 1);
    bigCustomer(a.file, 'acme', PAGE_ROWS * 2 + 10);
    const transfer = new Transfer(a.api, b.api, { move: 2, fencing: 5, customers: ['acme'] });
    let pages = 0;
    const writes: string[] = [];
    await transfer.prepareTarget();
    const report = await transfer.copy(async () => {
      pages += 1;
      writes.push(appWrite(a.file, `UPDATE customers SET name = 'page ${pages}' WHERE customer_id = 'other'`));
      writes.push(appWrite(b.file, `INSERT INTO customers VALUES ('b-own-${pages}', 'b${pages}@x.io', 'n', NULL, 't', 't', 'cell-b')`));
    });
    expect(report.find((t) => t.table === 'orders')!.targetRows).toBe(PAGE_ROWS * 2 + 11);
    expect(pages).toBe(2); // 4,015 rows: pages of 2,000, 2,000 and 15, spanning tables
    expect(writes).toEqual(writes.map(() => 'ok'));
    expect(await transfer.purge('source')).toBe(PAGE_ROWS * 2 + 11 + 1 + 1 + 1 + 1);
  });

  it('refuses a mover whose fencing number is older than one the cell has seen, and it changes nothing', async () => {
    const a = await cell('cell-a');
    const b = await cell('cell-b');
    seed(a.file, 'acme', 2);
    const stale = new Transfer(a.api, b.api, { move: 3, fencing: 4, customers: ['acme'] });
    const taker = new Transfer(a.api, b.api, { move: 3, fencing: 5, customers: ['acme'] });
    await a.api.barrier({ move: 3, fencing: 4, customers: ['acme'] });
    await a.api.barrier({ move: 3, fencing: 5, customers: ['acme'] }); // the new owner's first call raises the number at the source
    await taker.purge('target'); // ... and at the target
    const refused = await stale.prepareTarget().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DataApiError);
    expect((refused as DataApiError).code).toBe('stale_owner');
    expect((await rowsOf(b.api, 'acme')).orders).toBe(0);
    await expect(stale.purge('source')).rejects.toMatchObject({ code: 'stale_owner' });
    expect((await rowsOf(a.api, 'acme')).orders).toBe(2);
  });

  it.each([
    ['stores fewer rows than it was sent', (answer: ImportAnswer) => ({ ...answer, rows: answer.rows - 1 })],
    [
      "holds rows whose checksum differs from the source's",
      (answer: ImportAnswer) => ({ ...answer, summary: answer.summary?.map((t) => (t.table === 'orders' ? { ...t, checksum: t.checksum + 1 } : t)) }),
    ],
  ])('stops with CopyMismatch when the target %s', async (_, lie) => {
    const a = await cell('cell-a');
    const b = await cell('cell-b');
    seed(a.file, 'acme', 1);
    const lying: DataApi = Object.assign(Object.create(b.api) as DataApi, {
      import: async (request: Parameters<DataApi['import']>[0]) => lie(await b.api.import(request)),
    });
    const transfer = new Transfer(a.api, lying, { move: 4, fencing: 6, customers: ['acme'] });
    await transfer.prepareTarget();
    await expect(transfer.copy()).rejects.toBeInstanceOf(CopyMismatch);
  });
});

/** `count` more orders of a customer, so its rows span several pages. */
function bigCustomer(file: string, customerId: string, count: number): void {
  const bulk = new Database(file);
  bulk.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})
             INSERT INTO orders SELECT 'big-' || i, '${customerId}', 'pending', 100, 't', 't', 'cell-a' FROM n`);
  bulk.close();
}

describe('a delete waits for proof that another cell holds the rows', () => {
  it("a target's preparation refuses to purge a batch customer whose only rows are in the target, even when the batch's sums look fine", async () => {
    const a = await cell('cell-a');
    const b = await cell('cell-b');
    seed(a.file, 'here', 2);
    seed(b.file, 'only-there', 1);
    const transfer = new Transfer(a.api, b.api, { move: 1, fencing: 1, customers: ['here', 'only-there'] });
    await expect(transfer.prepareTarget()).rejects.toThrow(
      /refusing to delete the customer's rows in cell-b: only-there: cell-a, which keeps the customer, holds none/,
    );
    expect((await rowsOf(b.api, 'only-there')).orders).toBe(1);
    // With the source holding the customer too, the target's copy is stale and goes.
    seed(a.file, 'only-there', 1);
    await transfer.prepareTarget();
    expect((await rowsOf(b.api, 'only-there')).orders).toBe(0);
  });
});
