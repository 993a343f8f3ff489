// The edges of a cell's health (issue 22, "Also degraded"): a corrupt cell named by audit and
// `customers show` while the others are still read; a database that refuses writes reported by
// status and health without a restart; a move whose source purge meets a held write lock; health of
// a move interrupted after its fence was lifted; `up` on a PostgreSQL control plane.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cleanup,
  cli,
  cliJson,
  cliOk,
  FIXTURES,
  freePort,
  http,
  otherCell,
  type RunningSystem,
  startSystem,
  tempDir,
  waitFor,
  type Workspace,
} from '../helpers.js';
import { pgAvailable, startPg, type TestPg } from '../pg.js';

const pgCheck = pgAvailable();
let server: TestPg | undefined;

afterAll(async () => {
  await cleanup();
  await server?.stop();
});

/** Ecommerce cells, started, with fast restarts and health checks. */
const shop = (cells: string[], settings: Record<string, unknown> = {}): Promise<RunningSystem> =>
  startSystem('ecommerce', cells, { supervisor: { backoffInitialMs: 100, healthIntervalMs: 300 }, ...settings });

async function createShopper(ws: RunningSystem, id: string): Promise<void> {
  expect((await http('POST', `${ws.url}/api/customers/${id}`, { name: `Shopper ${id}`, email: `${id}@example.com` })).status).toBe(201);
  expect((await http('POST', `${ws.url}/api/customers/${id}/cart/items`, { product_id: 'sku-cable', quantity: 2 })).status).toBe(200);
}

const mappedCell = async (ws: RunningSystem, id: string): Promise<string> => (await cliJson(ws.home, ['route', id])).cell;

describe('a cell whose database is corrupt', () => {
  it('is named by audit and customers show, which go on with the other cells', async () => {
    const ws = await shop(['c1', 'c2', 'c3']);
    for (const id of ['amy', 'bob', 'cyd', 'dan', 'eve', 'fay']) await createShopper(ws, id);
    const mapping = new Map((await cliJson<{ id: string; cellId: string }[]>(ws.home, ['customers'])).map((c) => [c.id, c.cellId]));
    // Rows without a mapping row in a readable cell, which the audit must still find.
    const unmapped = [...mapping].find(([, cell]) => cell !== 'c1')![0];
    await cliOk(ws.home, ['customers', 'unassign', unmapped, '--force']);
    // A mapping row whose rows may be in c1: not called missing while c1 cannot be read.
    await cliOk(ws.home, ['assign', 'customer', 'nobody', '--cell', 'c2']);
    await cliOk(ws.home, ['stop']);
    fs.writeFileSync(path.join(ws.home, 'c1', 'data.db'), Buffer.alloc(64 * 1024, 'garbage '));
    for (const suffix of ['-wal', '-shm']) fs.rmSync(path.join(ws.home, 'c1', `data.db${suffix}`), { force: true });

    const audit = await cli(ws.home, ['audit', '--json']);
    expect(audit.code, audit.stderr).toBe(4);
    const report = JSON.parse(audit.stdout);
    expect(report.unreadableCells).toEqual([{ cell: 'c1', reason: expect.stringMatching(/c1.*data\.db.*not a database/) }]);
    expect(report.findings).toEqual([expect.objectContaining({ kind: 'unmapped', customerId: unmapped, foundIn: [mapping.get(unmapped)] })]);
    expect(audit.stderr).not.toMatch(/this is a bug/);
    const plain = await cli(ws.home, ['audit']);
    expect(plain.stdout).toContain(unmapped);
    expect(plain.stderr).toMatch(/cell c1 not audited: .*not a database/);
    // With the finding settled, what is left is the cell that could not be read: exit 1.
    await cliOk(ws.home, ['assign', 'customer', unmapped, '--cell', mapping.get(unmapped)!]);
    await cliOk(ws.home, ['customers', 'unassign', 'nobody']);
    const incomplete = await cli(ws.home, ['audit']);
    expect(incomplete.code).toBe(1);
    expect(incomplete.stderr).toMatch(/cell c1 not audited/);

    for (const [id, cell] of mapping) {
      const show = await cli(ws.home, ['customers', 'show', id, '--json']);
      expect(show.code, `${id}: ${show.stderr}`).toBe(1);
      const shown = JSON.parse(show.stdout);
      expect(shown.unreadableCells.map((c: { cell: string }) => c.cell)).toEqual(['c1']);
      expect(Object.keys(shown.rows)).toEqual(cell === 'c1' ? [] : [cell]);
    }
    const text = await cli(ws.home, ['customers', 'show', unmapped]);
    expect(text.stdout).toContain(mapping.get(unmapped)!);
    expect(text.stderr).toMatch(/cell c1 not read: .*not a database/);
  }, 120_000);
});

/** Runs a move that stops after `step` until the test lets it go on (see CELLCTL_PAUSE_FILE in src/migration/engine.ts). */
async function pausedMove(ws: Workspace, customerId: string, target: string, step: string) {
  const file = path.join(ws.home, '..', `pause-${customerId}-${step}`);
  const done = cli(ws.home, ['migrate', 'customer', customerId, '--to', target], { CELLCTL_PAUSE_AFTER_STEP: step, CELLCTL_PAUSE_FILE: file });
  await waitFor(`the move to reach "${step}"`, () => fs.existsSync(`${file}.reached`));
  return { done, goOn: () => fs.writeFileSync(file, '') };
}

/** A write transaction held open on a cell's data.db from this process, as a user's app that never commits would. */
function holdWriteLock(ws: Workspace, cell: string): { release: () => void } {
  const db = new Database(path.join(ws.home, cell, 'data.db'));
  db.pragma('busy_timeout = 10000');
  db.exec('BEGIN IMMEDIATE');
  return {
    release: () => {
      db.exec('ROLLBACK');
      db.close();
    },
  };
}

/** The customer's rows in one cell's data.db (customers and cart items). */
function rowsIn(ws: Workspace, cell: string, customerId: string): number {
  const db = new Database(path.join(ws.home, cell, 'data.db'), { readonly: true });
  try {
    const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE customer_id = ?`).get(customerId) as { n: number }).n;
    return count('customers') + count('cart_items');
  } finally {
    db.close();
  }
}

describe('a move whose source purge meets a held write lock', () => {
  it('stops after the switch naming the cell and the lock; resume says the same while it is held, and finishes once it is gone', async () => {
    const ws = await shop(['c1', 'c2'], { limits: { purgeBusyRetryMs: 500 } });
    await createShopper(ws, 'pinned');
    const source = await mappedCell(ws, 'pinned');
    const target = otherCell(source);
    const moving = await pausedMove(ws, 'pinned', target, 'released');
    const lock = holdWriteLock(ws, source);
    try {
      moving.goOn();
      const stopped = await moving.done;
      const [running] = await cliJson(ws.home, ['migrate', 'list', '--state', 'running']);
      expect(running).toMatchObject({ customerId: 'pinned', step: 'released' });
      expect(stopped.code).toBe(1);
      expect(stopped.stderr).toMatch(new RegExp(`stopped after the switch: .*cell ${source}.*locked by another writer.*migrate resume ${running.id}`));
      // The target serves the customer meanwhile.
      const served = await http('GET', `${ws.url}/api/customers/pinned/cart`);
      expect(served.status).toBe(200);
      expect(served.headers.get('x-cellctl-cell')).toBe(target);
      const refused = await cli(ws.home, ['migrate', 'resume', String(running.id)]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).not.toMatch(/this is a bug/);
      expect(refused.stderr).toMatch(new RegExp(`cell ${source}.*locked by another writer.*migrate resume ${running.id}`));
      expect(rowsIn(ws, source, 'pinned')).toBeGreaterThan(0);
    } finally {
      lock.release();
    }
    const [running] = await cliJson(ws.home, ['migrate', 'list', '--state', 'running']);
    await cliOk(ws.home, ['migrate', 'resume', String(running.id)]);
    expect(rowsIn(ws, source, 'pinned')).toBe(0);
    expect(rowsIn(ws, target, 'pinned')).toBe(2);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
  }, 120_000);
});

/**
 * Supervisor settings under which a cell failing its health check for 5 s would be killed as hung
 * (short, yet long enough for a cell to start on a busy machine: a new process counts from its start).
 */
const QUICK_TO_RESTART = { backoffInitialMs: 100, healthIntervalMs: 300, unhealthyRestartMs: 5_000 };

interface CellLook {
  healthy: boolean;
  text: string;
}

/** What status (JSON and text) and health say of one cell. */
async function lookAt(ws: Workspace, cell: string): Promise<CellLook & { healthExit: number; healthText: string }> {
  const report = JSON.parse((await cliOk(ws.home, ['status', '--json'])).stdout);
  const row = report.cells.find((candidate: { id: string }) => candidate.id === cell);
  const text = (await cliOk(ws.home, ['status'])).stdout;
  const health = await cli(ws.home, ['health']);
  return { healthy: row.healthy === true, text: `${row.lastError ?? ''}\n${text}`, healthExit: health.code, healthText: health.stdout + health.stderr };
}

/**
 * Holds a write lock on the cell's data.db until status and health name the cell with "database
 * refuses writes", then keeps it for two of the supervisor's would-be restart periods while the
 * process named by `pidOf` stays the same (no restart), then releases it and waits for healthy.
 */
async function expectRefusedWritesReported(ws: Workspace, cell: string, pidOf: () => number): Promise<void> {
  // The lock is taken once the cell and its data API answer: one taken while a companion still sets
  // up its barrier holds that start (and then the data API answers nothing, said by another test).
  await waitFor(`${cell} and its data API to answer`, async () => (await lookAt(ws, cell)).healthExit === 0);
  const pid = pidOf();
  const lock = holdWriteLock(ws, cell);
  try {
    let lastLook: unknown;
    const seen = await waitFor(
      `status to say ${cell}'s database refuses writes`,
      async () => {
        const look = await lookAt(ws, cell);
        lastLook = look;
        return !look.healthy && look.text.includes('database refuses writes') && look.healthExit === 3 && look;
      },
      20_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; last seen: ${JSON.stringify(lastLook)}`);
    });
    expect(seen.text).toMatch(new RegExp(`${cell}: .*database refuses writes`));
    expect(seen.healthText).toMatch(new RegExp(`cell ${cell} is running but fails its health check: database refuses writes`));
    const since = Date.now();
    while (Date.now() - since < 2 * QUICK_TO_RESTART.unhealthyRestartMs) {
      expect(pidOf()).toBe(pid);
      expect((await lookAt(ws, cell)).healthy).toBe(false);
    }
  } finally {
    lock.release();
  }
  await waitFor(`${cell} to be healthy again`, async () => (await lookAt(ws, cell)).healthExit === 0);
  expect(pidOf()).toBe(pid);
  const events = await cliJson<{ kind: string; subject: string }[]>(ws.home, ['events', '--lines', '500']);
  expect(events.filter((event) => event.kind === 'process.hung')).toEqual([]);
}

describe('a cell whose database refuses writes', () => {
  it('a built-in cell: status and health name it with "database refuses writes"; it is not restarted, and is healthy once the lock goes', async () => {
    const ws = await startSystem('ecommerce', ['c1', 'c2'], { supervisor: QUICK_TO_RESTART });
    await expectRefusedWritesReported(ws, 'c1', () => Number(fs.readFileSync(path.join(ws.home, 'c1', 'pid'), 'utf8')));
  }, 120_000);

  it("a user's app with its cell-agent: the companion's write probe makes status and health say so, and nothing is restarted", async () => {
    const ws = await startSystem('notes', ['n1'], { templatePaths: [path.join(FIXTURES, 'templates')], supervisor: QUICK_TO_RESTART });
    const agentPid = () => Number(fs.readFileSync(path.join(ws.home, 'n1', 'data.pid'), 'utf8'));
    await waitFor('the companion to start', () => fs.existsSync(path.join(ws.home, 'n1', 'data.pid')) && agentPid() > 0);
    const appPid = Number(fs.readFileSync(path.join(ws.home, 'n1', 'pid'), 'utf8'));
    await expectRefusedWritesReported(ws, 'n1', agentPid);
    expect(Number(fs.readFileSync(path.join(ws.home, 'n1', 'pid'), 'utf8'))).toBe(appPid);
  }, 120_000);
});

describe('a cell whose data API does not answer while its app does', () => {
  it('status and health name the data API; once it answers again the cell is healthy', async () => {
    const ws = await startSystem('notes', ['n1'], { templatePaths: [path.join(FIXTURES, 'templates')] });
    const agentPid = Number(fs.readFileSync(path.join(ws.home, 'n1', 'data.pid'), 'utf8'));
    await waitFor('n1 to be healthy', async () => (await lookAt(ws, 'n1')).healthExit === 0);
    process.kill(agentPid, 'SIGSTOP');
    try {
      const seen = await waitFor('status and health to name the data API', async () => {
        const look = await lookAt(ws, 'n1');
        return !look.healthy && look.healthExit === 3 && look;
      });
      expect(seen.text).toMatch(/n1: .*data API at http:\/\/127\.0\.0\.1:\d+ does not answer/);
      expect(seen.healthText).toMatch(/cell n1 is running but fails its health check: its data API at .* does not answer/);
    } finally {
      process.kill(agentPid, 'SIGCONT');
    }
    await waitFor('n1 to be healthy again', async () => (await lookAt(ws, 'n1')).healthExit === 0);
  }, 120_000);
});

describe('a move interrupted after its fence was lifted', () => {
  it('leaves health at exit 0 with a note while the router serves the customer from the target; resume then purges the source', async () => {
    const ws = await shop(['c1', 'c2']);
    await createShopper(ws, 'lifted');
    const target = otherCell(await mappedCell(ws, 'lifted'));
    const killed = await cli(ws.home, ['migrate', 'customer', 'lifted', '--to', target], { CELLCTL_FAULT_AFTER_STEP: 'released' });
    expect(killed.code).not.toBe(0);
    const [interrupted] = await cliJson(ws.home, ['migrate', 'list', '--state', 'running']);
    expect(interrupted).toMatchObject({ customerId: 'lifted', step: 'released' });
    const served = await http('GET', `${ws.url}/api/customers/lifted/cart`);
    expect(served.status).toBe(200);
    expect(served.headers.get('x-cellctl-cell')).toBe(target);
    const health = await cli(ws.home, ['health']);
    expect(health.code, health.stdout + health.stderr).toBe(0);
    expect(health.stdout + health.stderr).toMatch(
      new RegExp(`note: migration ${interrupted.id} of lifted .*interrupted at "released".*migrate resume ${interrupted.id}`),
    );
    const json = JSON.parse((await cli(ws.home, ['health', '--json'])).stdout);
    expect(json).toMatchObject({ healthy: true, customersAffected: 0, problems: [] });
    await cliOk(ws.home, ['migrate', 'resume', String(interrupted.id)]);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
    expect(JSON.parse((await cli(ws.home, ['health', '--json'])).stdout)).toMatchObject({ healthy: true, notes: [] });
  }, 120_000);
});

describe.skipIf(!pgCheck.ok)(`up with CELLCTL_CONTROL_URL${pgCheck.ok ? '' : ` (skipped: ${pgCheck.reason})`}`, () => {
  it("keeps the new workspace's control plane in PostgreSQL, as init does, and makes no control.db", async () => {
    server = await startPg();
    const home = path.join(tempDir(), 'ws');
    const url = await server.newDatabase();
    const up = await cli(home, ['up', '--cells', '1', '--customers', '2', '--router-port', String(await freePort(2)), '--template', 'basic'], {
      CELLCTL_CONTROL_URL: url,
    });
    expect(up.code, up.stderr).toBe(0);
    expect(fs.readFileSync(path.join(home, 'secrets', 'control-url'), 'utf8').trim()).toBe(url);
    expect(fs.existsSync(path.join(home, 'control.db'))).toBe(false);
    expect(up.stderr).toMatch(/control plane: postgres/);
    expect(up.stdout + up.stderr).not.toContain(server.password);
    const status = JSON.parse((await cliOk(home, ['status', '--json'])).stdout);
    expect(status.controlPlane.kind).toBe('postgres');
    expect(status.cells.map((cell: { id: string }) => cell.id)).toEqual(['cell-1']);
  }, 120_000);
});
