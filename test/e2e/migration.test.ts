// Moving customers: no lost or doubled write under continuous load through the router, moves with
// the router stopped, resume and abort after a crash at every step, refusals, drain, rebalance,
// keep-source and audit.
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATION_STEPS } from '../../src/control/records.js';
import { readAdminToken } from '../../src/workspace/secrets.js';
import { cli, cliJson, cliOk, cleanup, createCells, http, otherCell, type RunningSystem, waitFor } from '../helpers.js';
import { expectAllWritesKept, mappedCell, none, pausedCommand, pausedMove, rowsIn, seedShopper, shop, shopper, startWriters } from '../shop.js';

afterAll(cleanup);

async function snapshot(ws: RunningSystem, id: string) {
  const orders = (await http('GET', `${ws.url}/api/customers/${id}/orders`)).body.orders.map(
    (order: { order_id: string; total_amount: number; items: unknown }) => ({ order_id: order.order_id, total_amount: order.total_amount, items: order.items }),
  );
  const cart = (await http('GET', `${ws.url}/api/customers/${id}/cart`)).body.items;
  return { orders, cart };
}

describe('a move under load', () => {
  it('loses no acknowledged write, applies none twice, and no request sees a 5xx', async () => {
    // A fenced copy however many rows the writers add (online-moves.test.ts moves the same load online).
    const ws = await shop(['c1', 'c2'], { limits: { rateLimit: { requests: 1_000_000, windowSeconds: 1 }, onlineMoveRows: 1_000_000 } });
    expect((await http('POST', `${ws.url}/api/customers/mover`, shopper('mover'))).status).toBe(201);
    const writers = startWriters(ws, 'mover');
    const cells: string[] = [await mappedCell(ws, 'mover')];
    for (let move = 0; move < 3; move += 1) {
      await writers.progressed(20);
      const target = otherCell(cells.at(-1)!);
      const result = await cliJson(ws.home, ['migrate', 'customer', 'mover', '--to', target]);
      expect(result).toMatchObject({ from: cells.at(-1), to: target });
      // Where the move spent its time, in the order of its steps; the hold is the steps from the fence to the lift.
      const steps = Object.keys(result.stepsMs);
      expect(steps).toEqual([
        'prepare',
        'fence',
        'journal fenced',
        'copy',
        'journal copied',
        'journal verified',
        'confirm fence',
        'switch',
        'hand over',
        'lift',
        'journal released',
        'purge',
      ]);
      const held = steps.slice(steps.indexOf('fence'), steps.indexOf('lift') + 1).reduce((sum, step) => sum + result.stepsMs[step], 0);
      expect(Math.abs(held - result.requestsHeldMs)).toBeLessThan(1);
      cells.push(target);
    }
    await writers.progressed(20);
    const tally = await writers.stop();
    const final = cells.at(-1)!;
    await expectAllWritesKept(ws, 'mover', final, otherCell(final), tally);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
    const journal = await cliJson(ws.home, ['migrate', 'list']);
    expect(journal.map((m: { state: string; step: string }) => `${m.state}/${m.step}`)).toEqual(['done/purged', 'done/purged', 'done/purged']);
  });

  it('works with the router stopped, and the router then serves the customer from the new cell', async () => {
    const ws = await shop(['c1', 'c2']);
    await seedShopper(ws, 'quiet', 2);
    const before = await snapshot(ws, 'quiet');
    const source = await mappedCell(ws, 'quiet');
    const target = otherCell(source);
    await cliOk(ws.home, ['stop', 'router']);
    const moved = await cliJson(ws.home, ['migrate', 'customer', 'quiet', '--to', target]);
    expect(moved.requestsHeldMs).toBe(0);
    await cliOk(ws.home, ['start']);
    const read = await http('GET', `${ws.url}/api/customers/quiet/orders`);
    expect(read.headers.get('x-cellctl-cell')).toBe(target);
    expect(await snapshot(ws, 'quiet')).toEqual(before);
    expect(rowsIn(ws, source, 'quiet')).toEqual(none);
  });
});

describe('a move killed at every step', () => {
  it('resume always ends with the customer wholly in the target, abort wholly in the source', async () => {
    const ws = await shop(['c1', 'c2']);
    await seedShopper(ws, 'crashy', 3);
    const expected = await snapshot(ws, 'crashy');
    // A fenced copy's steps (online-moves.test.ts kills an online move at its own).
    const steps = MIGRATION_STEPS.filter((step) => step !== 'purged' && step !== 'capturing' && step !== 'caught-up');
    for (const step of steps) {
      for (const action of ['resume', 'abort'] as const) {
        const source = await mappedCell(ws, 'crashy');
        const target = otherCell(source);
        const killed = await cli(ws.home, ['migrate', 'customer', 'crashy', '--to', target], { CELLCTL_FAULT_AFTER_STEP: step });
        expect(killed.code, `killed after ${step}`).not.toBe(0);
        const running = await cliJson(ws.home, ['migrate', 'list', '--state', 'running']);
        expect(running, `journal after ${step}`).toEqual([expect.objectContaining({ customerId: 'crashy', step })]);
        expect((await cliJson(ws.home, ['status'])).migrationsNeedingAttention).toHaveLength(1);
        expect((await cliJson(ws.home, ['route', 'crashy'])).fencedBy).toMatchObject({ step });
        await cliOk(ws.home, ['migrate', action, String(running[0].id)]);
        const home = action === 'resume' ? target : source;
        const away = action === 'resume' ? source : target;
        expect(await mappedCell(ws, 'crashy'), `${action} after ${step}`).toBe(home);
        expect(rowsIn(ws, away, 'crashy'), `${action} after ${step}: rows left in ${away}`).toEqual(none);
        expect(rowsIn(ws, home, 'crashy')).toMatchObject({ customers: 1, orders: 3, order_items: 3, cart_items: 1 });
        const served = await http('GET', `${ws.url}/api/customers/crashy/orders`);
        expect(served.headers.get('x-cellctl-cell')).toBe(home);
        expect(await snapshot(ws, 'crashy')).toEqual(expected);
        expect((await cli(ws.home, ['audit'])).code).toBe(0);
        expect(await cliJson(ws.home, ['migrate', 'list', '--state', 'running'])).toEqual([]);
      }
    }
  }, 240_000); // 12 killed moves, each with resume or abort and checks: minutes on a busy machine
});

describe('a move whose fence breaks', () => {
  it('is rolled back, not switched, when the router restarts between copy and switch', async () => {
    const ws = await shop(['c1', 'c2']);
    await seedShopper(ws, 'fragile', 1);
    const source = await mappedCell(ws, 'fragile');
    const target = otherCell(source);
    const moving = await pausedMove(ws, 'fragile', target, 'verified');
    await cliOk(ws.home, ['restart', 'router']);
    moving.goOn();
    const result = await moving.done;
    expect(result.code).toBe(1);
    expect(await mappedCell(ws, 'fragile')).toBe(source);
    expect(rowsIn(ws, target, 'fragile')).toEqual(none);
    expect((await cliJson(ws.home, ['migrate', 'list']))[0]).toMatchObject({ state: 'aborted' });
    await cliOk(ws.home, ['migrate', 'customer', 'fragile', '--to', target]);
    expect(await mappedCell(ws, 'fragile')).toBe(target);
  });
});

describe('a move owned by a process that still runs it', () => {
  const settings = { limits: { rateLimit: { requests: 1_000_000, windowSeconds: 1 }, fenceHoldMs: 120_000, fenceLeaseMs: 120_000 } };

  it('cannot be resumed, aborted or started again by another process; it finishes, and no write is lost', async () => {
    const ws = await shop(['c1', 'c2'], settings);
    await seedShopper(ws, 'owned', 2);
    const source = await mappedCell(ws, 'owned');
    const target = otherCell(source);
    const writers = startWriters(ws, 'owned');
    await writers.progressed(10);
    const moving = await pausedMove(ws, 'owned', target, 'verified');
    const [running] = await cliJson(ws.home, ['migrate', 'list', '--state', 'running']);
    for (const args of [
      ['migrate', 'customer', 'owned', '--to', target],
      ['migrate', 'resume', String(running.id)],
      ['migrate', 'abort', String(running.id)],
    ]) {
      const refused = await cli(ws.home, args);
      expect(refused.code, args.join(' ')).toBe(1);
      expect(refused.stderr, args.join(' ')).toContain(`pid ${moving.pid}`);
    }
    const status = await cliJson(ws.home, ['status']);
    expect(status.migrations).toEqual([expect.objectContaining({ id: running.id, progress: 'in-progress', runBy: `pid ${moving.pid}` })]);
    expect(status.migrationsNeedingAttention).toEqual([]);
    expect(await cliJson(ws.home, ['migrate', 'show', String(running.id)])).toMatchObject({
      state: 'running',
      step: 'verified',
      progress: `in progress (pid ${moving.pid})`,
    });
    moving.goOn();
    expect((await moving.done).code).toBe(0);
    await writers.progressed(10);
    const tally = await writers.stop();
    await expectAllWritesKept(ws, 'owned', target, source, tally, { orders: 2, items: 2 + 3 });
    expect(await cliJson(ws.home, ['migrate', 'list'])).toEqual([expect.objectContaining({ state: 'done', step: 'purged' })]);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
  });

  it.each(['resume', 'abort'] as const)('is taken over by %s once its owner was stopped past its lease; the owner then touches nothing', async (action) => {
    const ws = await shop(['c1', 'c2'], { limits: { ...settings.limits, migrationLeaseMs: 1_000 } });
    await seedShopper(ws, 'stuck', 2);
    const source = await mappedCell(ws, 'stuck');
    const target = otherCell(source);
    const writers = startWriters(ws, 'stuck');
    await writers.progressed(10);
    const moving = await pausedMove(ws, 'stuck', target, 'verified');
    const [running] = await cliJson(ws.home, ['migrate', 'list', '--state', 'running']);
    process.kill(moving.pid, 'SIGSTOP');
    try {
      await waitFor(`"migrate ${action}" to take over`, async () => (await cli(ws.home, ['migrate', action, String(running.id)])).code === 0, 60_000);
    } finally {
      process.kill(moving.pid, 'SIGCONT');
    }
    const home = action === 'resume' ? target : source;
    const away = action === 'resume' ? source : target;
    expect(await mappedCell(ws, 'stuck')).toBe(home);
    await writers.progressed(10);
    moving.goOn();
    const original = await moving.done;
    expect(original.code).toBe(1);
    await writers.progressed(10);
    const tally = await writers.stop();
    await expectAllWritesKept(ws, 'stuck', home, away, tally, { orders: 2, items: 2 + 3 });
    expect(await cliJson(ws.home, ['migrate', 'list', '--state', 'running'])).toEqual([]);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
  });

  it('a mover taken over before it fenced lifts the fence it then puts, so the customer is not held for a lease', async () => {
    const ws = await shop(['c1', 'c2'], { limits: { ...settings.limits, migrationLeaseMs: 1_000 } });
    await seedShopper(ws, 'late', 1);
    const source = await mappedCell(ws, 'late');
    const target = otherCell(source);
    const moving = await pausedMove(ws, 'late', target, 'prepared');
    const [running] = await cliJson(ws.home, ['migrate', 'list', '--state', 'running']);
    process.kill(moving.pid, 'SIGSTOP');
    try {
      await waitFor('"migrate resume" to take over', async () => (await cli(ws.home, ['migrate', 'resume', String(running.id)])).code === 0, 60_000);
    } finally {
      process.kill(moving.pid, 'SIGCONT');
    }
    // The stale mover goes on: it fences the router, then finds the move is no longer its own.
    moving.goOn();
    const stale = await moving.done;
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/no longer ours|changed nothing more/);
    const route = await http('GET', `http://127.0.0.1:${ws.adminPort}/admin/route/late`, undefined, { authorization: `Bearer ${readAdminToken(ws.home)}` });
    expect(route.body).toMatchObject({ fenced: false });
    const write = await http('POST', `${ws.url}/api/customers/late/cart/items`, { product_id: 'sku-cable', quantity: 1 });
    expect([write.status, write.headers.get('x-cellctl-cell')]).toEqual([200, target]);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
  });
});

describe('refusals', () => {
  it('refuses with a clear message and changes nothing', async () => {
    const ws = await shop(['c1', 'c2', 'c3']);
    await createCells(ws, 'basic', ['b1']);
    await seedShopper(ws, 'stay', 1);
    const source = await mappedCell(ws, 'stay');
    const others = ['c1', 'c2', 'c3'].filter((cell) => cell !== source);
    await cliOk(ws.home, ['stop', others[1]!]);
    const db = new Database(path.join(ws.home, others[0]!, 'data.db'));
    db.pragma('user_version = 3');
    db.close();
    const cases: [string[], RegExp][] = [
      [['migrate', 'customer', 'nobody', '--to', others[0]!], /not mapped to any cell/],
      [['migrate', 'customer', 'stay', '--to', 'nowhere'], /no cell named "nowhere"/],
      [['migrate', 'customer', 'stay', '--to', source], /already in/],
      [['migrate', 'customer', 'stay', '--to', others[1]!], /is stopped: start it/],
      [['migrate', 'customer', 'stay', '--to', 'b1'], /stopped|same template/],
      [['migrate', 'customer', 'stay', '--to', others[0]!], /schema versions differ/],
    ];
    for (const [args, message] of cases) {
      const result = await cli(ws.home, args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toMatch(message);
    }
    expect((await cli(ws.home, ['migrate', 'customer', 'stay'])).code).toBe(2);
    expect(await mappedCell(ws, 'stay')).toBe(source);
    expect(await cliJson(ws.home, ['migrate', 'list'])).toEqual([]);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
  });

  it('refuses a full target unless --force, and a second migration of the same customer', async () => {
    const ws = await shop(['c1', 'c2']);
    await seedShopper(ws, 'full', 0);
    const source = await mappedCell(ws, 'full');
    const target = otherCell(source);
    const db = new Database(path.join(ws.home, 'control.db'));
    db.prepare("INSERT INTO customers (id, cell_id, created_at) VALUES ('occupant', ?, 'now')").run(target);
    db.prepare('UPDATE cells SET capacity = 1 WHERE id = ?').run(target);
    db.close();
    const full = await cli(ws.home, ['migrate', 'customer', 'full', '--to', target]);
    expect(full.stderr).toMatch(/at capacity \(1\/1\).*--force/);
    await cli(ws.home, ['migrate', 'customer', 'full', '--to', target, '--force'], { CELLCTL_FAULT_AFTER_STEP: 'fenced' });
    const twice = await cli(ws.home, ['migrate', 'customer', 'full', '--to', target, '--force']);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/interrupted migration \d+/);
    const [running] = await cliJson(ws.home, ['migrate', 'list', '--state', 'running']);
    await cliOk(ws.home, ['migrate', 'abort', String(running.id)]);
    expect((await cli(ws.home, ['migrate', 'abort', String(running.id)])).stderr).toMatch(/already aborted/);
  });

  it('--dry-run prints the plan and changes nothing', async () => {
    const ws = await shop(['c1', 'c2']);
    await seedShopper(ws, 'planner', 2);
    const source = await mappedCell(ws, 'planner');
    const target = otherCell(source);
    const plan = await cliJson(ws.home, ['migrate', 'customer', 'planner', '--to', target, '--dry-run']);
    expect(plan).toMatchObject({ from: source, to: target, rows: { customers: 1, orders: 2, order_items: 2, order_events: 2, cart_items: 1 } });
    expect(await mappedCell(ws, 'planner')).toBe(source);
    expect(await cliJson(ws.home, ['migrate', 'list'])).toEqual([]);
  });
});

describe('bulk moves', () => {
  it('drains a cell in batches, places no new customers there, and rebalances afterwards', async () => {
    const ws = await shop(['c1', 'c2', 'c3']);
    for (let i = 0; i < 40; i += 1) await cliOk(ws.home, ['assign', 'customer', `bulk-${i}`, '--cell', 'c1']);
    for (let i = 0; i < 40; i += 1) expect((await http('POST', `${ws.url}/api/customers/bulk-${i}`, shopper(`bulk-${i}`))).status).toBe(201);
    const plan = await cliJson(ws.home, ['drain', 'c1', '--dry-run']);
    expect(plan).toEqual({ cell: 'c1', customers: 40, targets: { c2: 20, c3: 20 } });
    // Killed in the middle of its first batch; the same command again finishes the job.
    const killed = await cli(ws.home, ['drain', 'c1', '--batch-size', '7'], { CELLCTL_FAULT_AFTER_STEP: 'copied' });
    expect(killed.code).not.toBe(0);
    // Two batches move at once: the kill leaves the one or two that were in flight running.
    const left = await cliJson(ws.home, ['migrate', 'list', '--state', 'running']);
    expect([7, 14]).toContain(left.length);
    const drained = await cliJson(ws.home, ['drain', 'c1', '--batch-size', '7']);
    expect(drained).toMatchObject({ cell: 'c1', resumed: left.length, interrupted: false });
    expect(drained.moved).toBe(40 - left.length);
    expect(await cliJson(ws.home, ['customers', '--cell', 'c1'])).toEqual([]);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
    for (let i = 0; i < 40; i += 1) expect((await http('GET', `${ws.url}/api/customers/bulk-${i}`)).body.name).toBe(`Shopper bulk-${i}`);
    const fresh = await http('POST', `${ws.url}/api/customers/fresh`, shopper('fresh'));
    expect(fresh.headers.get('x-cellctl-cell')).not.toBe('c1');

    await cliOk(ws.home, ['activate', 'c1']);
    const rebalancePlan = await cliJson(ws.home, ['rebalance', '--dry-run']);
    expect(rebalancePlan.moves).toBeGreaterThan(10);
    const rebalanced = await cliJson(ws.home, ['rebalance', '--max-moves', '5']);
    expect(rebalanced.moved).toBe(5);
    await cliJson(ws.home, ['rebalance']);
    const counts = (await cliJson(ws.home, ['list'])).map((cell: { customers: number }) => cell.customers);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
  }, 240_000); // about 120 CLI runs: minutes on a busy 2-core machine

  it('Ctrl-C during a drain finishes the batches in flight, says how far it got, and exits 130; the same command again finishes it', async () => {
    const ws = await shop(['c1', 'c2']);
    for (let i = 0; i < 12; i += 1) await cliOk(ws.home, ['assign', 'customer', `int-${i}`, '--cell', 'c1']);
    for (let i = 0; i < 12; i += 1) expect((await http('POST', `${ws.url}/api/customers/int-${i}`, shopper(`int-${i}`))).status).toBe(201);
    // The drain stops in its first move; Ctrl-C reaches it there, then it goes on.
    const drain = await pausedCommand(ws, ['drain', 'c1', '--batch-size', '2'], 'verified', 'drain');
    process.kill(drain.pid, 'SIGINT');
    drain.goOn();
    const interrupted = await drain.done;
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toMatch(/interrupted: finishing the current batch/);
    const moved = Number(/moved (\d+) of 12; run "cellctl drain c1" again to continue/.exec(interrupted.stderr)?.[1]);
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(12);
    expect(await cliJson(ws.home, ['customers', '--cell', 'c1'])).toHaveLength(12 - moved);
    expect(await cliJson(ws.home, ['migrate', 'list', '--state', 'running'])).toEqual([]);
    const finished = await cli(ws.home, ['drain', 'c1', '--batch-size', '2']);
    expect(finished.code).toBe(0);
    expect(await cliJson(ws.home, ['customers', '--cell', 'c1'])).toEqual([]);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
  }, 120_000);
});

describe('keep-source and audit', () => {
  it('keeps the source rows until purged, and audit finds real misplacements', async () => {
    const ws = await shop(['c1', 'c2']);
    await seedShopper(ws, 'keeper', 1);
    const source = await mappedCell(ws, 'keeper');
    const target = otherCell(source);
    await cliOk(ws.home, ['migrate', 'customer', 'keeper', '--to', target, '--keep-source', '1h']);
    expect(rowsIn(ws, source, 'keeper').customers).toBe(1);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
    expect((await cliJson(ws.home, ['migrate', 'purge'])).purged).toEqual([]);
    expect((await cliJson(ws.home, ['migrate', 'purge', '--all'])).purged).toHaveLength(1);
    expect(rowsIn(ws, source, 'keeper')).toEqual(none);

    // A customer whose rows are in one cell but whose mapping points at the other.
    const db = new Database(path.join(ws.home, 'control.db'));
    db.prepare('UPDATE customers SET cell_id = ? WHERE id = ?').run(source, 'keeper');
    db.close();
    const audit = await cli(ws.home, ['audit', '--json']);
    expect(audit.code).toBe(4);
    expect(JSON.parse(audit.stdout).findings).toEqual([
      expect.objectContaining({ kind: 'misplaced', customerId: 'keeper', mappedTo: source, foundIn: [target] }),
    ]);
  });

  it('finds a stray copy in a second cell, names the command, and customers purge removes only that copy', async () => {
    const ws = await shop(['c1', 'c2']);
    await seedShopper(ws, 'twin', 2);
    const served = await mappedCell(ws, 'twin');
    const stray = otherCell(served);
    // A copy left in the other cell: a move there and back, each keeping its source, whose journal then lost the second one.
    await cliOk(ws.home, ['migrate', 'customer', 'twin', '--to', stray, '--keep-source', '1h']);
    await cliOk(ws.home, ['migrate', 'customer', 'twin', '--to', served, '--keep-source', '1h']);
    const back = new Database(path.join(ws.home, 'control.db'));
    back.prepare("UPDATE migrations SET step = 'purged' WHERE customer_id = 'twin'").run();
    back.close();
    const audit = await cli(ws.home, ['audit', '--json']);
    expect(audit.code).toBe(4);
    const [finding] = JSON.parse(audit.stdout).findings;
    expect(finding).toMatchObject({ kind: 'duplicated', customerId: 'twin', mappedTo: served });
    expect(finding.advice).toContain(`cellctl customers purge twin --cell ${stray} --yes`);
    // As delete: off a terminal it needs --yes, and removes nothing without it.
    const unconfirmed = await cli(ws.home, ['customers', 'purge', 'twin', '--cell', stray]);
    expect([unconfirmed.code, unconfirmed.stderr]).toEqual([
      2,
      `error: remove twin's rows from ${stray} needs confirmation: pass --yes (no terminal to ask on)\n`,
    ]);
    expect((await cli(ws.home, ['audit'])).code).not.toBe(0);
    // The served copy is never purged this way.
    expect((await cli(ws.home, ['customers', 'purge', 'twin', '--cell', served, '--yes'])).code).toBe(1);
    expect(rowsIn(ws, served, 'twin').customers).toBe(1);
    const purged = await cliJson(ws.home, ['customers', 'purge', 'twin', '--cell', stray, '--yes']);
    expect(purged).toMatchObject({ customerId: 'twin', cell: stray, servedBy: served });
    expect(purged.removed).toBeGreaterThan(0);
    expect(rowsIn(ws, stray, 'twin')).toEqual(none);
    expect(rowsIn(ws, served, 'twin').customers).toBe(1);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
  });
});
