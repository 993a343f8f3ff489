// Online moves (DESIGN.md "Online moves"): the rows are copied while the customer keeps writing, and
// the router holds it only for the cutover. limits.onlineMoveRows 0 makes every customer move online,
// so small customers exercise the whole protocol here; the benchmark measures big ones.
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, cliJson, cliOk, cleanup, FIXTURES, http, otherCell, startSystem, type Workspace } from '../helpers.js';
import { expectAllWritesKept, mappedCell, none, pausedCommand, rowsIn, seedShopper, shop, shopper, startWriters } from '../shop.js';

afterAll(cleanup);

const online = (more: Record<string, unknown> = {}) => ({ limits: { rateLimit: { requests: 1_000_000, windowSeconds: 1 }, onlineMoveRows: 0, ...more } });

/** What a cell's data.db holds of change capture: its tables and triggers (none once no move captures). */
function captureLeft(ws: Workspace, cell: string): string[] {
  const db = new Database(path.join(ws.home, cell, 'data.db'), { readonly: true });
  try {
    return db
      .prepare("SELECT name FROM sqlite_master WHERE name LIKE '_cellctl_capture%' OR name LIKE '_cellctl_changes%' ORDER BY name")
      .pluck()
      .all() as string[];
  } finally {
    db.close();
  }
}

/** Runs `work` in one transaction on a cell's data.db, as another program on the cell would write it (the capture sees every writer). */
function writeCell(ws: Workspace, cell: string, work: (db: Database.Database) => void): void {
  const db = new Database(path.join(ws.home, cell, 'data.db'));
  try {
    db.pragma('busy_timeout = 10000');
    db.pragma('foreign_keys = ON');
    db.transaction(() => work(db))();
  } finally {
    db.close();
  }
}

/** Cart rows written straight into a cell's data.db, as another program on the cell would (the capture sees every writer). */
function writeBehindTheRouter(ws: Workspace, cell: string, customerId: string, rows: number): void {
  writeCell(ws, cell, (db) => {
    const products = db.prepare('SELECT product_id FROM products ORDER BY product_id').pluck().all() as string[];
    const add = db.prepare(
      `INSERT INTO cart_items (customer_id, product_id, quantity, added_at) VALUES (?, ?, 1, 'x')
       ON CONFLICT (customer_id, product_id) DO UPDATE SET quantity = quantity + 1`,
    );
    for (let n = 0; n < rows; n += 1) add.run(customerId, products[n % products.length]);
  });
}

describe('an online move under load', () => {
  it('copies while the customer writes, holds it only for the cutover, loses and doubles nothing, and leaves no capture behind', async () => {
    const ws = await shop(['c1', 'c2'], online());
    expect((await http('POST', `${ws.url}/api/customers/mover`, shopper('mover'))).status).toBe(201);
    const writers = startWriters(ws, 'mover');
    const cells: string[] = [await mappedCell(ws, 'mover')];
    for (let move = 0; move < 3; move += 1) {
      await writers.progressed(20);
      const target = otherCell(cells.at(-1)!);
      const result = await cliJson(ws.home, ['migrate', 'customer', 'mover', '--to', target]);
      expect(result).toMatchObject({ from: cells.at(-1), to: target, copy: { mode: 'online', why: null } });
      const steps = Object.keys(result.stepsMs);
      expect(steps).toEqual([
        'prepare',
        'capture',
        'copy online',
        'catch up',
        'journal caught-up',
        'fence',
        'journal fenced',
        'cut over',
        'journal copied',
        'journal verified',
        'confirm fence',
        'switch',
        'hand over',
        'lift',
        'journal released',
        'clean up',
        'purge',
      ]);
      // The hold is the steps from the fence to the lift: the copy and the catch-up come before it.
      const held = steps.slice(steps.indexOf('fence'), steps.indexOf('lift') + 1).reduce((sum, step) => sum + result.stepsMs[step], 0);
      expect(Math.abs(held - result.requestsHeldMs)).toBeLessThan(1);
      expect(captureLeft(ws, cells.at(-1)!)).toEqual([]);
      cells.push(target);
    }
    await writers.progressed(20);
    const tally = await writers.stop();
    const final = cells.at(-1)!;
    await expectAllWritesKept(ws, 'mover', final, otherCell(final), tally);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
    expect(captureLeft(ws, 'c1')).toEqual([]);
    expect(captureLeft(ws, 'c2')).toEqual([]);
    const journal = await cliJson(ws.home, ['migrate', 'list']);
    expect(journal.map((m: { state: string; step: string }) => `${m.state}/${m.step}`)).toEqual(['done/purged', 'done/purged', 'done/purged']);
  });
});

describe('an online move killed at each step', () => {
  it('resume ends with the customer wholly in the target, abort wholly in the source, and no capture is left', async () => {
    const ws = await shop(['c1', 'c2'], online());
    await seedShopper(ws, 'crashy', 3);
    const expected = rowsIn(ws, await mappedCell(ws, 'crashy'), 'crashy');
    for (const step of ['capturing', 'caught-up', 'fenced', 'verified', 'switched', 'released']) {
      for (const action of ['resume', 'abort'] as const) {
        const source = await mappedCell(ws, 'crashy');
        const target = otherCell(source);
        const killed = await cli(ws.home, ['migrate', 'customer', 'crashy', '--to', target], { CELLCTL_FAULT_AFTER_STEP: step });
        expect(killed.code, `killed after ${step}`).not.toBe(0);
        const running = await cliJson(ws.home, ['migrate', 'list', '--state', 'running']);
        expect(running, `journal after ${step}`).toEqual([expect.objectContaining({ customerId: 'crashy', step })]);
        // Held at the routers from 'fenced' on only: before it, the customer is served by its source, which takes its writes.
        if (step === 'capturing' || step === 'caught-up') {
          const added = await http('POST', `${ws.url}/api/customers/crashy/cart/items`, { product_id: 'sku-cable', quantity: 1 });
          expect(added.status, `a write after a kill after ${step}`).toBe(200);
          expect(added.headers.get('x-cellctl-cell')).toBe(source);
          expect((await http('DELETE', `${ws.url}/api/customers/crashy/cart/items/sku-cable`)).status).toBe(200);
        }
        await cliOk(ws.home, ['migrate', action, String(running[0].id)]);
        const home = action === 'resume' ? target : source;
        const away = action === 'resume' ? source : target;
        expect(await mappedCell(ws, 'crashy'), `${action} after ${step}`).toBe(home);
        expect(rowsIn(ws, away, 'crashy'), `${action} after ${step}: rows left in ${away}`).toEqual(none);
        expect(rowsIn(ws, home, 'crashy')).toEqual(expected);
        expect(captureLeft(ws, source), `${action} after ${step}: capture left in ${source}`).toEqual([]);
        expect(captureLeft(ws, target)).toEqual([]);
        const served = await http('POST', `${ws.url}/api/customers/crashy/cart/items`, { product_id: 'sku-cable', quantity: 1 });
        expect(served.status, `a write after ${action} after ${step}`).toBe(200);
        expect(served.headers.get('x-cellctl-cell')).toBe(home);
        await http('DELETE', `${ws.url}/api/customers/crashy/cart/items/sku-cable`);
        expect(rowsIn(ws, home, 'crashy')).toEqual(expected);
        expect((await cli(ws.home, ['audit'])).code).toBe(0);
      }
    }
  }, 300_000); // 12 killed moves, each with resume or abort and checks: minutes on a busy machine
});

/** `orders` orders of one item each, written straight into the customer's cell: a customer of several pages. */
function seedOrders(ws: Workspace, cell: string, customerId: string, orders: number): void {
  writeCell(ws, cell, (db) => {
    for (let n = 0; n < orders; n += 1) {
      db.prepare("INSERT INTO orders VALUES (?, ?, 'fulfilled', 900, 't', 't', ?)").run(`${customerId}-s${n}`, customerId, cell);
      db.prepare("INSERT INTO order_items VALUES (?, ?, 'sku-cable', 1, 900, 't')").run(`${customerId}-s${n}`, customerId);
    }
  });
}

/** A two-cell shop moving every customer online, and `customerId` created there with `orders` orders: where it lives, and the other cell. */
async function bigCustomer(customerId: string, orders: number) {
  const ws = await shop(['c1', 'c2'], online());
  expect((await http('POST', `${ws.url}/api/customers/${customerId}`, shopper(customerId))).status).toBe(201);
  const source = await mappedCell(ws, customerId);
  seedOrders(ws, source, customerId, orders);
  return { ws, source, target: otherCell(source) };
}

describe('an online move whose source, target or router restarts in the middle of its copy', () => {
  it('finishes from where the copy was, with every acknowledged write kept once', async () => {
    const { ws, source } = await bigCustomer('mover', 400);
    const writers = startWriters(ws, 'mover', 5_000, true);
    let at = source;
    for (const restarted of ['source', 'target', 'router'] as const) {
      await writers.progressed(10);
      const target = otherCell(at);
      // Paused after the copy's first page (of several): the capture runs, and the rest is still to copy.
      const paused = await pausedCommand(ws, ['migrate', 'customer', 'mover', '--to', target, '--json'], 'copying', `restart-${restarted}`);
      await cliOk(ws.home, ['restart', restarted === 'source' ? at : restarted === 'target' ? target : 'router']);
      await writers.progressed(5);
      paused.goOn();
      const moved = await paused.done;
      expect(moved.code, `${restarted} restarted: ${moved.stderr}`).toBe(0);
      expect(JSON.parse(moved.stdout)).toMatchObject({ to: target, copy: { mode: 'online' } });
      at = target;
    }
    await writers.progressed(10);
    const tally = await writers.stop();
    await expectAllWritesKept(ws, 'mover', at, otherCell(at), tally, { orders: 400, items: 400 });
    expect(captureLeft(ws, 'c1')).toEqual([]);
    expect(captureLeft(ws, 'c2')).toEqual([]);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
  });
});

describe('rows rewritten while an online copy runs', () => {
  it('a row deleted and written again after it was copied (a new rowid, the same key) is copied twice without a conflict and ends once, as the source has it', async () => {
    const { ws, source, target } = await bigCustomer('again', 1_000);
    const paused = await pausedCommand(ws, ['migrate', 'customer', 'again', '--to', target, '--json'], 'copying', 'again');
    // The first page holds the first orders; written again they get a rowid past the copy's cursor, so the next page sends them too.
    writeCell(ws, source, (db) => {
      for (const n of [0, 1, 2]) {
        db.prepare('DELETE FROM orders WHERE order_id = ?').run(`again-s${n}`);
        db.prepare("INSERT INTO orders VALUES (?, 'again', 'pending', 1200, 't', 't', ?)").run(`again-s${n}`, source);
        db.prepare("INSERT INTO order_items VALUES (?, 'again', 'sku-mouse', 2, 600, 't')").run(`again-s${n}`);
      }
    });
    const expected = rowsIn(ws, source, 'again');
    paused.goOn();
    const moved = await paused.done;
    expect(moved.code, moved.stderr).toBe(0);
    expect(JSON.parse(moved.stdout)).toMatchObject({ to: target, copy: { mode: 'online' } });
    expect(rowsIn(ws, target, 'again')).toEqual(expected);
    const orders = (await http('GET', `${ws.url}/api/customers/again/orders`)).body.orders;
    expect(orders.filter((order: { status: string }) => order.status === 'pending')).toHaveLength(3);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
  });
});

describe('an online move aborted after the customer deleted rows it had copied', () => {
  it('abort drops the partial copy: the target, barred and never handed over, held rows the source no longer has', async () => {
    const { ws, source, target } = await bigCustomer('shrinks', 300);
    const paused = await pausedCommand(ws, ['migrate', 'customer', 'shrinks', '--to', target], 'caught-up', 'shrinks');
    writeCell(ws, source, (db) => {
      db.prepare("DELETE FROM order_items WHERE customer_id = 'shrinks' AND order_id LIKE 'shrinks-s1%'").run();
      db.prepare("DELETE FROM orders WHERE customer_id = 'shrinks' AND order_id LIKE 'shrinks-s1%'").run();
    });
    const expected = rowsIn(ws, source, 'shrinks');
    expect(rowsIn(ws, target, 'shrinks').orders).toBeGreaterThan(expected.orders!);
    const [moving] = await cliJson(ws.home, ['migrate', 'list', '--state', 'running']);
    // migrate show says where the online copy stood (its journaled progress) and the lag at the catch-up's end.
    const shown = (await cliOk(ws.home, ['migrate', 'show', String(moving.id)])).stdout;
    expect(shown).toMatch(/progress: phase copying, rows \d+, totalRows 601, lag 0/);
    expect(shown).toMatch(/\n {2}lag: \d+/);
    process.kill(paused.pid, 'SIGKILL');
    await paused.done;
    const running = await cliJson(ws.home, ['migrate', 'list', '--state', 'running']);
    expect(running).toEqual([expect.objectContaining({ customerId: 'shrinks', step: 'caught-up' })]);
    await cliOk(ws.home, ['migrate', 'abort', String(running[0].id)]);
    expect(rowsIn(ws, target, 'shrinks')).toEqual(none);
    expect(rowsIn(ws, source, 'shrinks')).toEqual(expected);
    expect(captureLeft(ws, source)).toEqual([]);
    expect((await http('POST', `${ws.url}/api/customers/shrinks/cart/items`, { product_id: 'sku-cable', quantity: 1 })).status).toBe(200);
  });
});

describe('a customer that writes faster than the catch-up', () => {
  it('--cutover abort rolls the move back and says why; --cutover force cuts over with every write', async () => {
    const ws = await shop(['c1', 'c2'], online({ catchUpMs: 0 }));
    await seedShopper(ws, 'busy', 1);
    const source = await mappedCell(ws, 'busy');
    const target = otherCell(source);
    // The dry run is the move's own driver, describing: the online steps, in order.
    const plan = await cliJson(ws.home, ['migrate', 'customer', 'busy', '--to', target, '--dry-run', '--json']);
    expect(plan.copy).toEqual({ mode: 'online', why: null });
    expect(plan.steps.map((step: { step: string }) => step.step)).toEqual([
      'prepare',
      'capture',
      'copy',
      'catch up',
      'fence',
      'cut over',
      'switch',
      'hand over',
      'release',
      'clean up',
      'purge',
    ]);
    expect(await cliJson(ws.home, ['migrate', 'list'])).toEqual([]);
    for (const cutover of ['abort', 'force'] as const) {
      // Paused once the capture runs: 3,000 changes land before the copy, more than one page of catch-up.
      const paused = await pausedCommand(
        ws,
        ['migrate', 'customer', 'busy', '--to', target, '--max-lag', '0', '--cutover', cutover],
        'capturing',
        `busy-${cutover}`,
      );
      writeBehindTheRouter(ws, source, 'busy', 3_000);
      const expected = rowsIn(ws, source, 'busy');
      paused.goOn();
      const moved = await paused.done;
      if (cutover === 'abort') {
        expect(moved.code).not.toBe(0);
        expect(moved.stderr).toMatch(/rolled back: after 0 s of catching up, \d+ change\(s\) were still waiting \(more than --max-lag 0/);
        expect(moved.stderr).toContain('--cutover force');
        expect(await mappedCell(ws, 'busy')).toBe(source);
        expect(rowsIn(ws, target, 'busy')).toEqual(none);
        expect(rowsIn(ws, source, 'busy')).toEqual(expected);
        expect(captureLeft(ws, source)).toEqual([]);
        expect((await cliJson(ws.home, ['migrate', 'list']))[0]).toMatchObject({ state: 'aborted', step: 'capturing' });
      } else {
        expect(moved.code, moved.stderr).toBe(0);
        expect(await mappedCell(ws, 'busy')).toBe(target);
        expect(rowsIn(ws, target, 'busy')).toEqual(expected);
        expect(rowsIn(ws, source, 'busy')).toEqual(none);
        expect(captureLeft(ws, source)).toEqual([]);
      }
    }
  });
});

describe("a user's own app moved online", () => {
  it('the Python app writes during the copy through its own connection; the move keeps the write and leaves no trigger or change table', async () => {
    const ws = await startSystem('notes', ['n1', 'n2'], { templatePaths: [path.join(FIXTURES, 'templates')], limits: { onlineMoveRows: 0 } });
    expect((await http('POST', `${ws.url}/api/customers/o1`, { name: 'o1' })).status).toBe(201);
    expect((await http('POST', `${ws.url}/api/customers/o1/notes`, { body: 'before' })).status).toBe(201);
    const source = await mappedCell(ws, 'o1');
    const target = otherCell(source, ['n1', 'n2']);
    const paused = await pausedCommand(ws, ['migrate', 'customer', 'o1', '--to', target, '--json'], 'capturing', 'o1');
    // The capture runs: the Python app's insert is recorded by the triggers in its own connection.
    expect(captureLeft(ws, source).length).toBeGreaterThan(0);
    const during = await http('POST', `${ws.url}/api/customers/o1/notes`, { body: 'during' });
    expect(during.status).toBe(201);
    expect(during.headers.get('x-cellctl-cell')).toBe(source);
    paused.goOn();
    const moved = await paused.done;
    expect(moved.code, moved.stderr).toBe(0);
    expect(JSON.parse(moved.stdout)).toMatchObject({ to: target, copy: { mode: 'online' } });
    const notes = await http('GET', `${ws.url}/api/customers/o1/notes`);
    expect(notes.headers.get('x-cellctl-cell')).toBe(target);
    expect(notes.body.notes).toEqual(['before', 'during']);
    expect(captureLeft(ws, source)).toEqual([]);
    expect(captureLeft(ws, target)).toEqual([]);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
  });
});
