// A workspace whose control plane is PostgreSQL: init --control (or CELLCTL_CONTROL_URL), status,
// assign, an unreachable server, and control migrate-to from control.db. The password never shows.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, cli, cliJson, cliOk, createCells, freePort, http, type RunningSystem, ROOT, startSystem, tempDir, waitFor } from '../helpers.js';
import { pgAvailable, startPg, type TestPg } from '../pg.js';
import { processPaths } from '../../src/workspace/paths.js';

const pgCheck = pgAvailable();
const customer = (id: string) => ({ name: `Customer ${id}`, email: `${id}@example.com` });
let server: TestPg | undefined;

beforeAll(async () => {
  if (pgCheck.ok) server = await startPg();
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await cleanup();
});

/** Every file under `dir`, read as text (logs, settings, pid files). */
function allText(dir: string): string {
  if (!fs.existsSync(dir)) return '';
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !entry.name.endsWith('.db') && path.join(entry.parentPath, entry.name) !== path.join(dir, 'secrets', 'control-url'))
    .map((entry) => fs.readFileSync(path.join(entry.parentPath, entry.name), 'latin1'))
    .join('\n');
}

/** A new workspace on free ports with its control plane in a new PostgreSQL database. */
async function pgWorkspace(): Promise<{ home: string; routerPort: number; url: string; outputs: string[] }> {
  const home = path.join(tempDir(), 'ws');
  const routerPort = await freePort(2);
  const url = await server!.newDatabase();
  const init = await cliOk(home, ['init', '--router-port', String(routerPort), '--control', url]);
  return { home, routerPort, url, outputs: [init.stdout, init.stderr] };
}

describe.skipIf(!pgCheck.ok)(`control plane in PostgreSQL${pgCheck.ok ? '' : ` (skipped: ${pgCheck.reason})`}`, () => {
  it('init --control creates it there: secrets/control-url 0600, no control.db; status, create and assign work; the password shows nowhere', async () => {
    const ws = await pgWorkspace();
    const outputs = [...ws.outputs];
    const urlFile = path.join(ws.home, 'secrets', 'control-url');
    expect(fs.statSync(urlFile).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(urlFile, 'utf8').trim()).toBe(ws.url);
    expect(fs.existsSync(path.join(ws.home, 'control.db'))).toBe(false);
    await createCells(ws as never, 'basic', ['c1']);
    outputs.push((await cliOk(ws.home, ['assign', 'customer', 'pg-1', '--cell', 'c1'])).stdout);
    const customers = await cliJson<{ id: string; cellId: string }[]>(ws.home, ['customers']);
    expect(customers.map((c) => [c.id, c.cellId])).toEqual([['pg-1', 'c1']]);
    const status = await cli(ws.home, ['status', '--json']);
    outputs.push(status.stdout, status.stderr);
    const report = JSON.parse(status.stdout);
    expect(report.controlPlane.kind).toBe('postgres');
    expect(report.controlPlane.where).toContain(`127.0.0.1:${server!.port}`);
    expect(report.cells.map((cell: { id: string }) => cell.id)).toEqual(['c1']);
    const plain = await cliOk(ws.home, ['status']);
    outputs.push(plain.stdout, plain.stderr);
    expect(plain.stdout).toMatch(/control plane: postgres/);
    // A second init changes nothing and says where the control plane is.
    const again = await cliOk(ws.home, ['init', '--control', ws.url]);
    outputs.push(again.stdout, again.stderr);
    expect(again.stdout + again.stderr).toMatch(/already exists/);
    for (const text of [...outputs, allText(ws.home)]) expect(text).not.toContain(server!.password);
  });

  it('init reads CELLCTL_CONTROL_URL; a bad or unreachable URL fails, says how to fix it, leaves nothing and never prints the password', async () => {
    const fromEnv = path.join(tempDir(), 'env');
    await cliOk(fromEnv, ['init', '--router-port', String(await freePort(2))], { CELLCTL_CONTROL_URL: await server!.newDatabase() });
    expect(fs.existsSync(path.join(fromEnv, 'secrets', 'control-url'))).toBe(true);
    expect(fs.existsSync(path.join(fromEnv, 'control.db'))).toBe(false);

    const noDatabase = path.join(tempDir(), 'bad');
    const bad = await cli(noDatabase, ['init', '--control', `postgres://cellctl:${server!.password}@127.0.0.1:${server!.port}`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/database/);
    expect(bad.stdout + bad.stderr).not.toContain(server!.password);
    expect(fs.existsSync(noDatabase)).toBe(false);

    const unreachable = path.join(tempDir(), 'down');
    const down = await cli(unreachable, ['init', '--control', `postgres://cellctl:${server!.password}@127.0.0.1:${await freePort()}/db`]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/unreachable|PostgreSQL/);
    expect(down.stdout + down.stderr).not.toContain(server!.password);
    expect(fs.existsSync(path.join(unreachable, 'cellctl.json'))).toBe(false);

    const wrongPassword = path.join(tempDir(), 'pw');
    const refused = await cli(wrongPassword, ['init', '--control', server!.url().replace(server!.password, 'not-the-password')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/check the user and password in the URL/);
    expect(refused.stdout + refused.stderr).not.toContain('not-the-password');
  });

  it('status and health exit 3 with one redacted line while PostgreSQL is down, and work again once it is back', async () => {
    const ws = await pgWorkspace();
    await server!.pause();
    try {
      const status = await cli(ws.home, ['status']);
      expect(status.code).toBe(3);
      expect(status.stderr.trim().split('\n')).toHaveLength(1);
      expect(status.stderr).toContain(`127.0.0.1:${server!.port}`);
      const health = await cli(ws.home, ['health', '--json']);
      expect(health.code).toBe(3);
      for (const text of [status.stdout, status.stderr, health.stdout, health.stderr]) expect(text).not.toContain(server!.password);
      // A move refuses before it changes anything.
      const move = await cli(ws.home, ['migrate', 'customer', 'x', '--to', 'c1']);
      expect(move.code).toBe(1);
      expect(move.stderr).toMatch(/unreachable/);
    } finally {
      await server!.resume();
    }
    expect((await cli(ws.home, ['status'])).code).toBe(0);
  });

  it('control migrate-to copies cells, customers, migrations and events from control.db, keeps control.db, and says so when run again', async () => {
    const ws: RunningSystem = await startSystem('basic', ['c1', 'c2']);
    for (const id of ['m-1', 'm-2', 'm-3']) expect((await http('POST', `${ws.url}/api/customers/${id}`, customer(id))).status).toBe(201);
    const from = (await cliJson<{ cell: string }>(ws.home, ['route', 'm-1'])).cell;
    await cliOk(ws.home, ['migrate', 'customer', 'm-1', '--to', from === 'c1' ? 'c2' : 'c1']);
    const url = await server!.newDatabase();
    const refused = await cli(ws.home, ['control', 'migrate-to', url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/stop/);
    await cliOk(ws.home, ['stop']);
    const read = async () => ({
      customers: await cliJson(ws.home, ['customers']),
      migrations: await cliJson(ws.home, ['migrate', 'list']),
      events: await cliJson(ws.home, ['events']),
      cells: (await cliJson<{ cells: { id: string }[] }>(ws.home, ['status'])).cells.map((cell) => cell.id),
    });
    const before = await read();
    expect(before.migrations).toHaveLength(1);
    // A wrong password or database: one line saying what to fix, control.db untouched.
    const wrongPassword = await cli(ws.home, ['control', 'migrate-to', url.replace(server!.password, 'not-the-password')]);
    expect(wrongPassword.code).toBe(1);
    expect(wrongPassword.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/refused the connection \(.*password.*\): check the user and password in the URL$/),
    ]);
    expect(wrongPassword.stdout + wrongPassword.stderr).not.toContain('not-the-password');
    const noDatabase = await cli(ws.home, ['control', 'migrate-to', url.replace(/\/[^/]*$/, '/no_such_database')]);
    expect(noDatabase.code).toBe(1);
    expect(noDatabase.stderr).toMatch(/the database in the URL does not exist: create it \(createdb\), or name one that does/);
    for (const result of [wrongPassword, noDatabase]) expect(result.stderr).not.toMatch(/this is a bug/);
    expect(fs.existsSync(path.join(ws.home, 'control.db'))).toBe(true);
    const moved = await cliOk(ws.home, ['control', 'migrate-to', url]);
    expect(moved.stdout + moved.stderr).not.toContain(server!.password);
    expect(fs.existsSync(path.join(ws.home, 'control.db'))).toBe(false);
    expect(fs.readdirSync(ws.home).some((name) => name.startsWith('control.db.migrated-'))).toBe(true);
    expect(fs.statSync(path.join(ws.home, 'secrets', 'control-url')).mode & 0o777).toBe(0o600);
    expect(await read()).toEqual(before);
    expect((await cliJson(ws.home, ['status'])).controlPlane.kind).toBe('postgres');
    const again = await cliOk(ws.home, ['control', 'migrate-to', url]);
    expect(again.stdout + again.stderr).toMatch(/already/);
  });

  it('up/start, customers created through the router and a move, all on PostgreSQL (needs the router on the control plane)', async () => {
    const ws = await pgWorkspace();
    await createCells(ws as never, 'basic', ['c1', 'c2']);
    const start = await cliOk(ws.home, ['start']);
    const url = `http://127.0.0.1:${ws.routerPort}`;
    for (const id of ['r-1', 'r-2']) expect((await http('POST', `${url}/api/customers/${id}`, customer(id))).status).toBe(201);
    const from = (await cliJson<{ cell: string }>(ws.home, ['route', 'r-1'])).cell;
    const to = from === 'c1' ? 'c2' : 'c1';
    const move = await cliOk(ws.home, ['migrate', 'customer', 'r-1', '--to', to]);
    await waitFor('the router routes r-1 to its new cell', async () => (await http('GET', `${url}/api/customers/r-1`)).headers.get('x-cellctl-cell') === to);
    const status = await cliOk(ws.home, ['status']);
    await cliOk(ws.home, ['stop']);
    for (const text of [start.stdout, start.stderr, move.stdout, move.stderr, status.stdout, allText(ws.home)]) expect(text).not.toContain(server!.password);
  });
});

/** Answered by the customer's cell, or refused because the router could not confirm its mapping in time. */
const servedOrUnconfirmed = (answer: { status: number; body: any }): boolean => answer.status === 200 || answer.body?.code === 'mapping_unconfirmed';

describe.skipIf(!pgCheck.ok)(`a move interrupted by PostgreSQL going down${pgCheck.ok ? '' : ` (skipped: ${pgCheck.reason})`}`, () => {
  /** Each of the customer's rows in a cell's data.db, by table. */
  const rowsIn = (home: string, cell: string, id: string): Record<string, number> => {
    const db = new Database(path.join(home, cell, 'data.db'), { readonly: true });
    try {
      const tables = ['customers', 'cart_items', 'orders', 'order_items', 'order_events'];
      return Object.fromEntries(tables.map((t) => [t, (db.prepare(`SELECT COUNT(*) AS n FROM ${t} WHERE customer_id = ?`).get(id) as { n: number }).n]));
    } finally {
      db.close();
    }
  };

  // Before the switch (the switch itself cannot be written) and after it (the release cannot be journaled);
  // and in the middle of an online copy ("copying": its catch-up cannot be journaled, its capture is removed).
  it.each(['verified', 'switched', 'copying'])(
    'stopped after "%s" while PostgreSQL is down: the router serves (until its mapping is unconfirmed), the move fails saying how to finish, and resume finishes it once PostgreSQL is back',
    async (step) => {
      const ws = await pgWorkspace();
      await createCells(ws as never, 'ecommerce', ['c1', 'c2']);
      await cliOk(ws.home, ['start']);
      const url = `http://127.0.0.1:${ws.routerPort}`;
      for (const id of ['held', 'other']) expect((await http('POST', `${url}/api/customers/${id}`, customer(id))).status).toBe(201);
      for (let n = 0; n < 3; n += 1) {
        expect((await http('POST', `${url}/api/customers/held/cart/items`, { product_id: 'sku-cable', quantity: 1 })).status).toBe(200);
        expect((await http('POST', `${url}/api/customers/held/orders`)).status).toBe(201);
      }
      const from = (await cliJson<{ cell: string }>(ws.home, ['route', 'held'])).cell;
      const to = from === 'c1' ? 'c2' : 'c1';
      const before = rowsIn(ws.home, from, 'held');
      if (step === 'copying') await cliOk(ws.home, ['config', 'set', 'limits.onlineMoveRows', '0']);
      const pause = path.join(ws.home, '..', `pause-${step}`);
      const move = cli(ws.home, ['migrate', 'customer', 'held', '--to', to], { CELLCTL_PAUSE_AFTER_STEP: step, CELLCTL_PAUSE_FILE: pause });
      await waitFor(`the move to reach "${step}"`, () => fs.existsSync(`${pause}.reached`));
      await server!.pause();
      let moved;
      try {
        await waitFor('the router to notice', async () => (await http('GET', `${url}/health`)).body.controlPlane?.ok === false).catch((error: unknown) => {
          // Say what the router and the supervisor logged: a router that went away here is the bug to find.
          const logs = ['router', 'supervisor'].map((name) => processPaths(ws.home, name).logFile).filter((file) => fs.existsSync(file));
          throw new Error(`${String(error)}\n${logs.map((file) => `${file}:\n${fs.readFileSync(file, 'utf8').slice(-3000)}`).join('\n')}`);
        });
        // Served from its cell until routerStaleAfterMs passed without a read, then refused (it may be stale).
        expect(servedOrUnconfirmed(await http('GET', `${url}/api/customers/other`))).toBe(true);
        fs.writeFileSync(pause, '');
        moved = await move;
        if (step !== 'switched') {
          // Rolled back without the control plane: the fence the move put up is lifted, the source serves the customer.
          // (Or refused as unconfirmed, if routerStaleAfterMs passed since the router last read PostgreSQL: never held, never from the target.)
          const held = await http('GET', `${url}/api/customers/held`);
          expect(held.body.code).not.toBe('customer_moving');
          expect(held.status === 200 ? held.headers.get('x-cellctl-cell') : held.body.code).toBe(held.status === 200 ? from : 'mapping_unconfirmed');
        }
        // While it is down the journal cannot be read: status says so, nothing is guessed.
        expect((await cli(ws.home, ['migrate', 'list'])).code).not.toBe(0);
      } finally {
        await server!.resume();
      }
      expect(moved.code, moved.stdout + moved.stderr).toBe(1);
      expect(moved.stderr).toMatch(/unreachable/);
      const id = /migrate resume (\d+)/.exec(moved.stderr)?.[1];
      expect(id, moved.stderr).toBeDefined();
      expect(moved.stderr).not.toContain(server!.password);
      const shown = await cliOk(ws.home, ['migrate', 'show', id!]);
      expect(shown.stdout).toContain('interrupted');
      // What its steps recorded, as lines: no raw JSON in the human output.
      expect(shown.stdout).toMatch(/recorded by its steps:\n {2}\w+: /);
      expect(shown.stdout).not.toContain('{"');
      if (step === 'copying') {
        // The online copy's rollback removed its capture, although the journal could not be written.
        const db = new Database(path.join(ws.home, from, 'data.db'), { readonly: true });
        expect(db.prepare("SELECT name FROM sqlite_master WHERE name LIKE '_cellctl_capture%'").all()).toEqual([]);
        db.close();
      }
      await cliOk(ws.home, ['migrate', 'resume', id!]);
      const resumed = await cliJson<{ state: string; detail: { online?: boolean } }>(ws.home, ['migrate', 'show', id!, '--json']);
      expect(resumed.state).toBe('done');
      if (step === 'copying') expect(resumed.detail.online).toBe(true);
      expect(rowsIn(ws.home, to, 'held')).toEqual(before);
      expect(Object.values(rowsIn(ws.home, from, 'held')).every((n) => n === 0)).toBe(true);
      await waitFor('the router to serve held from its new cell', async () => {
        const answer = await http('GET', `${url}/api/customers/held`);
        return answer.status === 200 && answer.headers.get('x-cellctl-cell') === to;
      });
      expect((await http('POST', `${url}/api/customers/held/cart/items`, { product_id: 'sku-cable', quantity: 1 })).status).toBe(200);
      expect((await cli(ws.home, ['audit'])).code).toBe(0);
      await cliOk(ws.home, ['stop']);
    },
  );
});
