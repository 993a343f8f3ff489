// The seams where an acknowledged write could be lost or land in the wrong cell (issue #22): a purge
// racing a move, a stale router writing to a cell the customer left, a control plane restored from a
// backup (or behind a barrier set by hand), and a mover meeting a cell of an older cellctl.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import http_ from 'node:http';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCellToken } from '../../src/workspace/secrets.js';
import { cli, cliJson, cliOk, cleanup, http, otherCell, type RunningSystem, waitFor } from '../helpers.js';
import { mappedCell, none, pausedCommand, pausedMove, rowsIn, seedShopper, shop, shopper } from '../shop.js';

afterAll(cleanup);

/** A cell's own HTTP address (its app, not the router): where a stale router would send a request. */
async function cellUrl(ws: RunningSystem, cell: string): Promise<string> {
  const cells: { id: string; url: string }[] = await cliJson(ws.home, ['list', '--json']);
  return cells.find((c) => c.id === cell)!.url;
}

/** The orders the customer has, read through the router. */
async function ordersOf(ws: RunningSystem, id: string): Promise<number> {
  const answer = await http('GET', `${ws.url}/api/customers/${id}/orders`);
  expect(answer.status).toBe(200);
  return answer.body.orders.length;
}

/** A consistent copy of control.db, taken while the system runs (SQLite's online backup). */
async function backUpControl(ws: RunningSystem, name: string): Promise<string> {
  const file = path.join(ws.home, '..', name);
  const db = new Database(path.join(ws.home, 'control.db'), { readonly: true });
  await db.backup(file);
  db.close();
  return file;
}

/** Stops the system, puts the backup in place of control.db, starts it again. */
async function restoreControl(ws: RunningSystem, backup: string): Promise<void> {
  await cliOk(ws.home, ['stop']);
  for (const suffix of ['-wal', '-shm']) fs.rmSync(path.join(ws.home, `control.db${suffix}`), { force: true });
  fs.copyFileSync(backup, path.join(ws.home, 'control.db'));
  await cliOk(ws.home, ['start']);
}

/**
 * A copy of a customer's rows left in the cell that does not serve it: a move there and back, each
 * keeping its source, whose journal then forgot the second kept copy (as a lost journal would).
 */
async function strayCopy(ws: RunningSystem, id: string): Promise<{ served: string; stray: string }> {
  const served = await mappedCell(ws, id);
  const stray = otherCell(served);
  await cliOk(ws.home, ['migrate', 'customer', id, '--to', stray, '--keep-source', '1h']);
  await cliOk(ws.home, ['migrate', 'customer', id, '--to', served, '--keep-source', '1h']);
  const db = new Database(path.join(ws.home, 'control.db'));
  db.prepare("UPDATE migrations SET step = 'purged' WHERE customer_id = ?").run(id);
  db.close();
  return { served, stray };
}

describe('a purge racing a move', () => {
  it('a purge that checked before a move reached its cell is refused by the cell, and the moved customer keeps every row', async () => {
    const ws = await shop(['c1', 'c2']);
    await seedShopper(ws, 'erin', 3);
    const { served, stray } = await strayCopy(ws, 'erin');
    expect(await ordersOf(ws, 'erin')).toBe(3);
    // The purge has checked (erin is served elsewhere, no move runs) and waits; then a move of erin into
    // that cell starts and has prepared it (its copy there is gone, the cell is barred for the move).
    const purge = await pausedCommand(ws, ['customers', 'purge', 'erin', '--cell', stray, '--yes'], 'purge-checked', 'erin-purge');
    const move = await pausedMove(ws, 'erin', stray, 'prepared');
    purge.goOn();
    const refused = await purge.done;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/nothing of erin was removed from .*a move of the customer reached/);
    move.goOn();
    expect((await move.done).code).toBe(0);
    expect(rowsIn(ws, stray, 'erin').orders).toBe(3);
    expect(rowsIn(ws, served, 'erin')).toEqual(none);
    expect(await mappedCell(ws, 'erin')).toBe(stray);
    expect(await ordersOf(ws, 'erin')).toBe(3);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
  });
});

describe('a cell the customer left', () => {
  it("refuses the customer's writes after the purge (as from a stale router), until a move or a placement brings it back", async () => {
    const ws = await shop(['c1', 'c2']);
    await seedShopper(ws, 'finn', 1);
    const source = await mappedCell(ws, 'finn');
    const target = otherCell(source);
    await cliOk(ws.home, ['migrate', 'customer', 'finn', '--to', target]);
    expect(rowsIn(ws, source, 'finn')).toEqual(none);
    // Straight to the old cell, as a router that missed the move would send them: a create, a cart add, a PUT.
    const old = await cellUrl(ws, source);
    const writes = [
      await http('POST', `${old}/api/customers/finn`, shopper('finn')),
      await http('POST', `${old}/api/customers/finn/cart/items`, { product_id: 'sku-cable', quantity: 1 }),
      await http('PUT', `${old}/api/customers/finn`, { name: 'Changed', email: 'finn@example.com' }),
    ];
    // The create is refused by the tombstone; the others find no customer to change. None lands.
    expect([writes[0]!.status, writes[0]!.body.code]).toEqual([503, 'customer_moving']);
    for (const answer of writes) expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(rowsIn(ws, source, 'finn')).toEqual(none);
    // Through the router: served by the new cell, every write lands.
    expect((await http('POST', `${ws.url}/api/customers/finn/cart/items`, { product_id: 'sku-cable', quantity: 1 })).status).toBe(200);
    // A move back lifts the tombstone in the old cell (and leaves one in the other).
    await cliOk(ws.home, ['migrate', 'customer', 'finn', '--to', source]);
    expect((await http('POST', `${old}/api/customers/finn/cart/items`, { product_id: 'sku-mouse', quantity: 1 })).status).toBe(200);
    const other = await cellUrl(ws, target);
    expect((await http('POST', `${other}/api/customers/finn`, shopper('finn'))).status).toBe(503);
    // Unassigned (its rows dropped by hand), the customer may be created anew in any cell: no tombstone refuses it.
    await cliOk(ws.home, ['unassign', 'customer', 'finn', '--force']);
    expect((await http('POST', `${other}/api/customers/finn`, shopper('finn'))).status).toBe(201);
  });
});

describe('a cell deleted with its customers', () => {
  it('drops their tombstones in the cells they once left, so each can be created anew', async () => {
    const ws = await shop(['c1', 'c2']);
    await cliOk(ws.home, ['assign', 'customer', 'lou', '--cell', 'c1']);
    await seedShopper(ws, 'lou', 1);
    await cliOk(ws.home, ['migrate', 'customer', 'lou', '--to', 'c2']);
    await cliOk(ws.home, ['stop', 'c2']);
    await cliOk(ws.home, ['delete', 'c2', '--force', '--yes']);
    // Only c1 is left, where lou once lived: its create lands there.
    await waitFor('the router to forget c2', async () => (await http('POST', `${ws.url}/api/customers/lou`, shopper('lou'))).status === 201);
    expect(rowsIn(ws, 'c1', 'lou').customers).toBe(1);
  });
});

describe('a control plane behind its cells', () => {
  it('restored from a backup: moves are refused in one line naming repair; repair --dry-run changes nothing; repair --yes puts the mapping where the rows are', async () => {
    const ws = await shop(['c1', 'c2']);
    await seedShopper(ws, 'gus', 3);
    const home = await mappedCell(ws, 'gus');
    const away = otherCell(home);
    const backup = await backUpControl(ws, 'control-before.db');
    for (const to of [away, home, away]) await cliOk(ws.home, ['migrate', 'customer', 'gus', '--to', to]);
    await restoreControl(ws, backup);
    // The mapping says `home`; the rows are in `away`, and the cells remember fencing numbers the plane never issued.
    expect(await mappedCell(ws, 'gus')).toBe(home);
    for (const args of [
      ['migrate', 'customer', 'gus', '--to', away],
      ['customers', 'purge', 'gus', '--cell', away, '--yes'],
    ]) {
      const refused = await cli(ws.home, args);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/control plane is behind its cells.*cellctl repair/);
    }
    expect(rowsIn(ws, away, 'gus').orders).toBe(3);
    const health = await cli(ws.home, ['health']);
    expect(health.code).toBe(3);
    expect(health.stdout + health.stderr).toMatch(/control plane is behind its cells.*run: cellctl repair --dry-run/);

    const dry = await cli(ws.home, ['repair', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/would: advance the fencing sequence/);
    expect(dry.stdout).toMatch(new RegExp(`would: map gus to ${away}`));
    expect(await mappedCell(ws, 'gus')).toBe(home);
    expect((await cli(ws.home, ['repair'])).code).toBe(2); // no terminal to ask on: --yes is needed
    const repaired = await cliJson(ws.home, ['repair', '--yes', '--json']);
    expect(repaired.applied).toBe(true);
    expect(repaired.repoint).toEqual([{ customerId: 'gus', from: home, to: away }]);
    expect(await mappedCell(ws, 'gus')).toBe(away);
    await waitFor(
      'the router to serve gus from where its rows are',
      async () => (await http('GET', `${ws.url}/api/customers/gus/orders`)).body.orders?.length === 3,
    );
    expect((await cliJson(ws.home, ['repair', '--json'])).applied).toBe(false); // nothing left to do
    expect((await cli(ws.home, ['health'])).stdout).not.toMatch(/behind its cells/);
    await cliOk(ws.home, ['migrate', 'customer', 'gus', '--to', home]);
    expect(await ordersOf(ws, 'gus')).toBe(3);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
  });

  it('restored from a backup taken mid-move: abort refuses to delete the only copy; repair ends the move and serves the customer', async () => {
    const ws = await shop(['c1', 'c2']);
    await seedShopper(ws, 'hal', 2);
    const home = await mappedCell(ws, 'hal');
    const away = otherCell(home);
    const move = await pausedMove(ws, 'hal', away, 'verified');
    const backup = await backUpControl(ws, 'control-mid-move.db');
    move.goOn();
    expect((await move.done).code).toBe(0);
    await restoreControl(ws, backup);
    const [running] = await cliJson(ws.home, ['migrate', 'list', '--json']);
    expect(running).toMatchObject({ customerId: 'hal', state: 'running', step: 'verified' });
    const abort = await cli(ws.home, ['migrate', 'abort', String(running.id)]);
    expect(abort.code).toBe(1);
    // The target took hal's writes (it was handed over) and the source holds none: either check refuses.
    expect(abort.stderr).toMatch(
      new RegExp(`refusing to delete the customer's rows in ${away}: .*(takes the writes of hal|${home}, which keeps the customer, holds none)`),
    );
    expect(rowsIn(ws, away, 'hal').orders).toBe(2);
    const repaired = await cliJson(ws.home, ['repair', '--yes', '--json']);
    expect(repaired.end).toEqual([{ id: running.id, customerId: 'hal', servedBy: away }]);
    expect((await cliJson(ws.home, ['migrate', 'show', String(running.id), '--json'])).state).toBe('failed');
    await waitFor('the router to serve hal', async () => (await http('GET', `${ws.url}/api/customers/hal/orders`)).body.orders?.length === 2);
    expect((await http('POST', `${ws.url}/api/customers/hal/cart/items`, { product_id: 'sku-cable', quantity: 1 })).status).toBe(200);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
  });

  it('restored from a backup taken mid-move, after which the move switched and kept its source: abort and resume refuse; repair serves the writes made since', async () => {
    const ws = await shop(['c1', 'c2']);
    await seedShopper(ws, 'kim', 2);
    const home = await mappedCell(ws, 'kim');
    const away = otherCell(home);
    const move = await pausedCommand(ws, ['migrate', 'customer', 'kim', '--to', away, '--keep-source', '1h'], 'verified', 'kim');
    const backup = await backUpControl(ws, 'control-kim.db');
    move.goOn();
    expect((await move.done).code).toBe(0);
    await http('POST', `${ws.url}/api/customers/kim/cart/items`, { product_id: 'sku-cable', quantity: 1 });
    expect((await http('POST', `${ws.url}/api/customers/kim/orders`)).status).toBe(201); // lands in `away` only
    await restoreControl(ws, backup);
    const [running] = await cliJson(ws.home, ['migrate', 'list', '--json']);
    expect(running).toMatchObject({ customerId: 'kim', state: 'running', step: 'verified' });
    for (const verb of ['abort', 'resume']) {
      const refused = await cli(ws.home, ['migrate', verb, String(running.id)]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(new RegExp(`${away} takes the writes of kim .*went further than this journal says`));
    }
    expect(rowsIn(ws, away, 'kim').orders).toBe(3);
    const repaired = await cliJson(ws.home, ['repair', '--yes', '--json']);
    expect(repaired).toMatchObject({ repoint: [{ customerId: 'kim', from: home, to: away }], end: [{ id: running.id }] });
    await waitFor(
      'the router to serve kim from where its live rows are',
      async () => (await http('GET', `${ws.url}/api/customers/kim/orders`)).body.orders?.length === 3,
    );
    // The kept copy in `home` is now a stray one, and goes.
    expect((await cli(ws.home, ['audit'])).code).toBe(4);
    await cliOk(ws.home, ['customers', 'purge', 'kim', '--cell', home, '--yes']);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
  });

  it('a barrier set by hand with a fencing number the plane never issued: named, and repair lifts it where the customer is served', async () => {
    const ws = await shop(['c1', 'c2']);
    await seedShopper(ws, 'ida', 1);
    const home = await mappedCell(ws, 'ida');
    const cells = await cliJson(ws.home, ['list', '--json']);
    const dataUrl = cells.find((c: { id: string }) => c.id === home).dataUrl;
    const auth = { authorization: `Bearer ${readCellToken(ws.home, home)}` };
    expect((await http('POST', `${dataUrl}/data/v2/barrier`, { move: 100, fencing: 100, customers: ['ida'] }, auth)).status).toBe(200);
    expect((await http('POST', `${ws.url}/api/customers/ida/cart/items`, { product_id: 'sku-cable', quantity: 1 })).status).toBe(503);
    const refused = await cli(ws.home, ['migrate', 'customer', 'ida', '--to', otherCell(home)]);
    expect(refused.stderr).toMatch(new RegExp(`${home} has seen fencing number 100`));
    const repaired = await cliJson(ws.home, ['repair', '--yes', '--json']);
    expect(repaired).toMatchObject({ behind: { cellId: home, fencing: 100 }, lift: [{ customerId: 'ida', cellId: home }] });
    expect((await http('POST', `${ws.url}/api/customers/ida/cart/items`, { product_id: 'sku-cable', quantity: 1 })).status).toBe(200);
    await cliOk(ws.home, ['migrate', 'customer', 'ida', '--to', otherCell(home)]);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
  });
});

describe('a cell of an older cellctl', () => {
  it('is refused by a mover with a message that says which side to restart', async () => {
    const ws = await shop(['c1', 'c2']);
    await seedShopper(ws, 'jo', 1);
    const home = await mappedCell(ws, 'jo');
    // A data API that answers as the previous version did.
    const old = http_.createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ api: 2, cell_id: otherCell(home), schema_version: 1, tables: [], barrier: 'triggers' }));
    });
    await new Promise<void>((resolve) => old.listen(0, '127.0.0.1', resolve));
    try {
      const port = (old.address() as { port: number }).port;
      const db = new Database(path.join(ws.home, 'control.db'));
      db.prepare('UPDATE cells SET data_url = ? WHERE id = ?').run(`http://127.0.0.1:${port}`, otherCell(home));
      db.close();
      const refused = await cli(ws.home, ['migrate', 'customer', 'jo', '--to', otherCell(home)]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        new RegExp(`cell ${otherCell(home)}'s data API speaks version 2, this cellctl needs version 4.*cellctl restart ${otherCell(home)}`),
      );
      expect(rowsIn(ws, home, 'jo').customers).toBe(1);
    } finally {
      old.close();
    }
  });
});
