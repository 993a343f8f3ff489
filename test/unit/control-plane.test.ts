// One conformance suite for the control plane, run against control.db and against a throwaway
// PostgreSQL (skipped with its reason where PostgreSQL cannot start), plus PostgreSQL's own guarantees.
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyControlPlane } from '../../src/control/copy.js';
import { isPostgresUrl, openControlPlane, printableLocation } from '../../src/control/open.js';
import { summarize } from '../../src/control/dump.js';
import { readSqliteDump } from '../../src/control/store.js';
import { PgControlPlane, redactUrl } from '../../src/control/pg-plane.js';
import { ALL, type ControlPlane, type NewMigration, OwnershipLost } from '../../src/control/plane.js';
import { SqliteControlPlane } from '../../src/control/sqlite-plane.js';
import { cleanup, newCell, tempDir, waitFor } from '../helpers.js';
import { pgAvailable, startPg, type TestPg } from '../pg.js';

const pgCheck = pgAvailable();
let server: TestPg | undefined;
const opened: ControlPlane[] = [];

beforeAll(async () => {
  if (pgCheck.ok) server = await startPg();
}, 120_000);

afterEach(async () => {
  await Promise.all(opened.splice(0).map((plane) => plane.close()));
});

afterAll(async () => {
  await server?.stop();
  await cleanup();
});

const track = <T extends ControlPlane>(plane: T): T => {
  opened.push(plane);
  return plane;
};

const newSqlite = async (): Promise<SqliteControlPlane> => track(SqliteControlPlane.create(path.join(tempDir(), 'control.db'), { pollMs: 20 }));
// The safety poll is an hour long here, so a watch that fires proves the notification path.
const newPostgres = async (): Promise<PgControlPlane> => track(await PgControlPlane.connect(await server!.newDatabase(), { safetyPollMs: 3_600_000 }));

const cell = newCell;

const move: NewMigration = { customerId: 'x', sourceCell: 'a', targetCell: 'b', keepSourceUntil: null, batch: null, step: 'checked' };
const owner = (token: string) => ({ token, pid: 4242, host: 'h', started: '1' });

/** A plane with cells a and b, both seen healthy. */
async function withCells(make: () => Promise<ControlPlane>): Promise<ControlPlane> {
  const plane = await make();
  await plane.insertCell(cell('a', 9001));
  await plane.insertCell(cell('b', 9002));
  await plane.markCellHealthy('a');
  await plane.markCellHealthy('b');
  return plane;
}

const errorOf = async (work: Promise<unknown>): Promise<unknown> =>
  work.then(
    () => undefined,
    (error: unknown) => error,
  );

const kinds = [
  { title: 'control.db (SQLite)', make: newSqlite as () => Promise<ControlPlane>, skip: false },
  {
    title: `PostgreSQL${pgCheck.ok ? '' : ` (skipped: ${pgCheck.reason})`}`,
    make: newPostgres as () => Promise<ControlPlane>,
    skip: !pgCheck.ok,
  },
];

// A loop rather than describe.each: its $title formatting would cut the skip reason short.
for (const { title, make, skip } of kinds)
  describe(`control plane conformance: ${title}`, () => {
    it.skipIf(skip)('keeps cells: insert, read, first-healthy once, status, delete with their mapping rows', async () => {
      const plane = await make();
      const inserted = await plane.insertCell({ ...cell('b', 9002), managed: false, dataPort: null });
      await plane.insertCell(cell('a', 9001));
      expect(inserted).toMatchObject({ id: 'b', status: 'active', firstHealthyAt: null, managed: false, dataPort: null });
      expect((await plane.listCells()).map((c) => c.id)).toEqual(['a', 'b']);
      expect(await plane.getCell('b')).toEqual(inserted);
      expect(await plane.getCell('nope')).toBeUndefined();
      await plane.markCellHealthy('a');
      const first = (await plane.getCell('a'))!.firstHealthyAt;
      expect(first).not.toBeNull();
      await plane.markCellHealthy('a');
      expect((await plane.getCell('a'))!.firstHealthyAt).toBe(first);
      await plane.setCellStatus('a', 'draining');
      expect((await plane.getCell('a'))!.status).toBe('draining');
      await plane.pinCustomers([
        { customerId: 'x', cellId: 'a' },
        { customerId: 'y', cellId: 'a' },
        { customerId: 'z', cellId: 'b' },
      ]);
      expect(await plane.deleteCell('a')).toBe(2);
      expect((await plane.listCells()).map((c) => c.id)).toEqual(['b']);
      expect((await plane.listCustomers()).map((c) => c.id)).toEqual(['z']);
    });

    it.skipIf(skip)('pins never move a customer, moves are conditional on the source, unmapping waits for no running migration', async () => {
      const plane = await withCells(make);
      expect(
        await plane.pinCustomers([
          { customerId: 'x', cellId: 'a' },
          { customerId: 'y', cellId: 'b' },
        ]),
      ).toEqual(['x', 'y']);
      expect(await plane.pinCustomers([{ customerId: 'x', cellId: 'b' }])).toEqual([]);
      expect((await plane.getCustomer('x'))?.cellId).toBe('a');
      expect(await plane.moveCustomer('x', 'b', 'a')).toBe(false);
      expect(await plane.moveCustomer('x', 'a', 'b')).toBe(true);
      expect(await plane.customerCounts()).toEqual(new Map([['b', 2]]));
      expect(await plane.customerCount()).toBe(2);
      expect((await plane.listCustomers('b')).map((c) => c.id)).toEqual(['x', 'y']);
      await plane.pinCustomers(['c-10', 'c-2', 'c-1', 'd-1', 'C-1'].map((customerId) => ({ customerId, cellId: 'a' })));
      expect(await plane.customerIdsStartingWith('c-', 10)).toEqual(['c-1', 'c-10', 'c-2']);
      expect(await plane.customerIdsStartingWith('c-', 2)).toEqual(['c-1', 'c-10']);
      expect(await plane.customerIdsStartingWith('', 2)).toEqual(['C-1', 'c-1']);
      expect(await plane.customerIdsStartingWith('zz', 10)).toEqual([]);
      const [running] = await plane.startMigrations([{ ...move, customerId: 'y', sourceCell: 'b', targetCell: 'a' }], owner('t'), 10_000);
      expect(await plane.unmapCustomer('y', 'b')).toBe(false);
      await plane.endMigrations([running!.id], 't', 'done');
      expect(await plane.unmapCustomer('y', 'a')).toBe(false);
      expect(await plane.unmapCustomer('y', 'b')).toBe(true);
      expect(await plane.getCustomer('y')).toBeUndefined();
    });

    it.skipIf(skip)('bumps the mapping version on every mapping or cell change, and reads the mapping in one snapshot', async () => {
      const plane = await withCells(make);
      const versions = [await plane.mappingVersion()];
      await plane.pinCustomers([{ customerId: 'x', cellId: 'a' }]);
      versions.push(await plane.mappingVersion());
      await plane.moveCustomer('x', 'a', 'b');
      versions.push(await plane.mappingVersion());
      await plane.setCellStatus('a', 'draining');
      versions.push(await plane.mappingVersion());
      await plane.unmapCustomer('x', 'b');
      versions.push(await plane.mappingVersion());
      await plane.insertCell(cell('c', 9003));
      versions.push(await plane.mappingVersion());
      for (let i = 1; i < versions.length; i += 1) expect(versions[i]).toBeGreaterThan(versions[i - 1]!);
      // What changes nothing leaves the version: a pin of a mapped customer, a move from the wrong cell.
      const still = await plane.mappingVersion();
      await plane.pinCustomers([{ customerId: 'y0', cellId: 'c' }]);
      const pinned = await plane.mappingVersion();
      await plane.pinCustomers([{ customerId: 'y0', cellId: 'a' }]);
      expect(await plane.moveCustomer('y0', 'a', 'b')).toBe(false);
      await plane.markCellHealthy('a');
      expect(await plane.mappingVersion()).toBe(pinned);
      expect(pinned).toBeGreaterThan(still);
      await plane.unmapCustomer('y0', 'c');
      await plane.pinCustomers([{ customerId: 'y', cellId: 'c' }]);
      const before = (await plane.readMapping(0)).changed.find((row) => row.id === 'y')!.rev;
      const read = await plane.readMapping(before - 1);
      expect(read.version).toBe(await plane.mappingVersion());
      expect(read.cells.map((c) => c.id)).toEqual(['a', 'b', 'c']);
      expect(read.changed).toEqual([{ id: 'y', cellId: 'c', rev: before }]);
      expect(read.customerCount).toBe(1);
      expect(await plane.customersChangedSince(before)).toEqual([]);
      // Any text is an id to the store, even one no customer id rule allows.
      await plane.pinCustomers([{ customerId: 'odd\tid\nhere', cellId: 'a' }]);
      const all = await plane.customersChangedSince(0);
      expect(all.map((row) => row.id).sort()).toEqual(['odd\tid\nhere', 'y']);
      expect(all.find((row) => row.id === 'y')).toEqual({ id: 'y', cellId: 'c', rev: before });
    });

    it.skipIf(skip)('allows one running migration per customer', async () => {
      const plane = await withCells(make);
      const [first] = await plane.startMigrations([move], owner('t1'), 10_000);
      const refused = await errorOf(plane.startMigrations([{ ...move, customerId: 'other' }, move], owner('t2'), 10_000));
      expect(refused).toMatchObject({ code: 'E_MIGRATION_RUNNING' });
      expect(String((refused as Error).message)).toContain(`migration ${first!.id}`);
      // All or none: the other customer's migration was not journaled either.
      expect(await plane.runningMigrationFor('other')).toBeUndefined();
      await plane.endMigrations([first!.id], 't1', 'done');
      const [second] = await plane.startMigrations([move], owner('t3'), 10_000);
      expect(second!.id).toBeGreaterThan(first!.id);
      expect((await plane.runningMigrationFor('x'))!.id).toBe(second!.id);
      expect((await plane.migrationsOf('x', ALL)).map((m) => m.id)).toEqual([second!.id, first!.id]);
      expect((await plane.listMigrations({ state: 'done', limit: ALL })).map((m) => m.id)).toEqual([first!.id]);
    });

    it.skipIf(skip)('writes the journal only for the owner, and lets another take over only as it was seen', async () => {
      const plane = await withCells(make);
      const [started] = await plane.startMigrations([move], owner('mine'), 10_000);
      const id = started!.id;
      expect(started!.owner).toMatchObject({ token: 'mine', pid: 4242, host: 'h', started: '1' });
      await plane.recordMigrationStep([id], 'mine', 'fenced', { fenceId: 'f1' });
      await expect(plane.recordMigrationStep([id], 'thief', 'copied')).rejects.toThrow(OwnershipLost);
      await expect(plane.endMigrations([id], 'thief', 'aborted')).rejects.toThrow(OwnershipLost);
      await expect(plane.renewLease([id], 'thief', 10_000)).rejects.toThrow(OwnershipLost);
      expect(await plane.getMigration(id)).toMatchObject({ step: 'fenced', state: 'running' });
      const seen = (await plane.getMigration(id))!.owner;
      // A renewal after it was seen makes the takeover fail: the owner is alive.
      await plane.renewLease([id], 'mine', 20_000);
      expect(await plane.takeOverMigration(id, seen, owner('new'), 10_000)).toBe(false);
      const seenAgain = (await plane.getMigration(id))!.owner;
      expect(await plane.takeOverMigration(id, seenAgain, owner('new'), 10_000)).toBe(true);
      expect(await plane.takeOverMigration(id, seenAgain, owner('third'), 10_000)).toBe(false);
      await expect(plane.recordMigrationStep([id], 'mine', 'copied')).rejects.toThrow(OwnershipLost);
      await expect(plane.renewLease([id], 'mine', 10_000)).rejects.toThrow(OwnershipLost);
      await plane.recordMigrationStep([id], 'new', 'copied', { rows: { a: 3 } });
      expect(await plane.getMigration(id)).toMatchObject({ step: 'copied', detail: { fenceId: 'f1', rows: { a: 3 } }, owner: { token: 'new' } });
      // Details merge as a JSON merge patch: objects merge, null removes a key.
      await plane.recordMigrationStep([id], 'new', 'verified', { fenceId: null, rows: { b: 4 }, list: [1, 2] });
      expect((await plane.getMigration(id))!.detail).toEqual({ rows: { a: 3, b: 4 }, list: [1, 2] });
    });

    it.skipIf(skip)('lets exactly one of several racing starts, and one of several racing takeovers, win', async () => {
      const plane = await withCells(make);
      const starts = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => plane.startMigrations([move], owner(`s${n}`), 10_000)));
      expect(starts.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of starts) if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'E_MIGRATION_RUNNING' });
      const running = (await plane.runningMigrationFor('x'))!;
      const takers = [1, 2, 3, 4, 5].map((n) => owner(`t${n}`));
      const won = await Promise.all(takers.map((taker) => plane.takeOverMigration(running.id, running.owner, taker, 10_000)));
      expect(won.filter(Boolean)).toHaveLength(1);
      expect((await plane.getMigration(running.id))!.owner!.token).toBe(takers[won.indexOf(true)]!.token);
    });

    it.skipIf(skip)('a journal write of a batch changes no row unless it owns them all', async () => {
      const plane = await withCells(make);
      const [a, b] = await plane.startMigrations([move, { ...move, customerId: 'y' }], owner('mine'), 10_000);
      expect(await plane.takeOverMigration(b!.id, (await plane.getMigration(b!.id))!.owner, owner('new'), 10_000)).toBe(true);
      const lost = await errorOf(plane.recordMigrationStep([a!.id, b!.id], 'mine', 'fenced'));
      expect(lost).toBeInstanceOf(OwnershipLost);
      expect((lost as OwnershipLost).migrationIds).toEqual([b!.id]);
      expect((await plane.getMigration(a!.id))!.step).toBe('checked');
      await expect(plane.endMigrations([a!.id, b!.id], 'mine', 'done')).rejects.toThrow(OwnershipLost);
      expect((await plane.getMigration(a!.id))!.state).toBe('running');
    });

    it.skipIf(skip)('hands out fencing numbers that strictly increase: at each start, each takeover, and for purges', async () => {
      const plane = await withCells(make);
      const [first] = await plane.startMigrations([move], owner('one'), 10_000);
      expect(await plane.takeOverMigration(first!.id, first!.owner, owner('two'), 10_000)).toBe(true);
      const taken = (await plane.getMigration(first!.id))!.fencing;
      const purge = await plane.newFencing();
      const [other] = await plane.startMigrations([{ ...move, customerId: 'y' }], owner('three'), 10_000);
      const seq = [first!.fencing, taken, purge, other!.fencing];
      expect(seq[0]).toBeGreaterThan(0);
      for (let i = 1; i < seq.length; i += 1) expect(seq[i]).toBeGreaterThan(seq[i - 1]!);
      expect(await plane.fencingIssued()).toBe(other!.fencing);
    });

    it.skipIf(skip)('tells the last fencing number issued, and advances past a number a cell has seen, never back', async () => {
      const plane = await withCells(make);
      expect(await plane.fencingIssued()).toBe(0);
      expect(await plane.advanceFencing(0)).toBe(0);
      expect(await plane.advanceFencing(100)).toBe(100);
      expect(await plane.newFencing()).toBe(101);
      expect(await plane.advanceFencing(50)).toBe(101);
      const [started] = await plane.startMigrations([move], owner('one'), 10_000);
      expect(started!.fencing).toBe(102);
      expect(await plane.fencingIssued()).toBe(102);
    });

    it.skipIf(skip)('switches the mapping and journals the switch together, or changes nothing', async () => {
      const plane = await withCells(make);
      await plane.pinCustomers([
        { customerId: 'x', cellId: 'a' },
        { customerId: 'y', cellId: 'a' },
      ]);
      const ms = await plane.startMigrations([move, { ...move, customerId: 'y' }], owner('mine'), 10_000);
      const ids = ms.map((m) => m.id);
      const moves = ['x', 'y'].map((customerId) => ({ customerId, from: 'a', to: 'b' }));
      const unchanged = async (): Promise<void> => {
        expect((await plane.getCustomer('x'))!.cellId).toBe('a');
        expect((await plane.getCustomer('y'))!.cellId).toBe('a');
        for (const id of ids) expect((await plane.getMigration(id))!.step).toBe('checked');
      };
      await expect(plane.switchCustomers({ ids, owner: 'thief', leaseMs: 10_000, moves })).rejects.toThrow(OwnershipLost);
      await unchanged();
      await expect(
        plane.switchCustomers({
          ids,
          owner: 'mine',
          leaseMs: 10_000,
          moves,
          precheck: () => {
            throw new Error('the fence was lost');
          },
        }),
      ).rejects.toThrow(/fence was lost/);
      await unchanged();
      const stale = [moves[0]!, { customerId: 'y', from: 'b', to: 'a' }];
      expect(await errorOf(plane.switchCustomers({ ids, owner: 'mine', leaseMs: 10_000, moves: stale }))).toMatchObject({ code: 'E_MAPPING_CHANGED' });
      await unchanged();
      await plane.switchCustomers({ ids, owner: 'mine', leaseMs: 10_000, moves, detail: { at: 'now' } });
      expect((await plane.customerCounts()).get('b')).toBe(2);
      for (const id of ids) expect(await plane.getMigration(id)).toMatchObject({ step: 'switched', state: 'running', detail: { at: 'now' } });
    });

    it.skipIf(skip)('aborts after the switch by ending the migration and starting its reverse under the same owner, atomically', async () => {
      const plane = await withCells(make);
      const [m] = await plane.startMigrations([move], owner('mine'), 10_000);
      const reverse: NewMigration = { customerId: 'x', sourceCell: 'b', targetCell: 'a', keepSourceUntil: null, batch: `reverse-of-${m!.id}`, step: 'checked' };
      await expect(plane.abortAndReverse({ ids: [m!.id], owner: owner('thief'), error: 'aborted', reverse: [reverse], leaseMs: 10_000 })).rejects.toThrow(
        OwnershipLost,
      );
      expect(await plane.getMigration(m!.id)).toMatchObject({ state: 'running' });
      expect((await plane.migrationsOf('x', ALL)).length).toBe(1);
      const [back] = await plane.abortAndReverse({ ids: [m!.id], owner: owner('mine'), error: 'aborted by the user', reverse: [reverse], leaseMs: 10_000 });
      expect(await plane.getMigration(m!.id)).toMatchObject({ state: 'aborted', error: 'aborted by the user' });
      expect(back).toMatchObject({ state: 'running', sourceCell: 'b', targetCell: 'a', owner: { token: 'mine' } });
      expect(back!.fencing).toBeGreaterThan(m!.fencing);
      await plane.recordMigrationStep([back!.id], 'mine', 'fenced');
    });

    it.skipIf(skip)('records a kept source as purged only once its migration is done', async () => {
      const plane = await withCells(make);
      const [m] = await plane.startMigrations([move], owner('mine'), 10_000);
      await plane.recordKeptSourcePurged(m!.id, { early: true });
      expect((await plane.getMigration(m!.id))!.step).toBe('checked');
      await plane.recordMigrationStep([m!.id], 'mine', 'released');
      await plane.endMigrations([m!.id], 'mine', 'done');
      await plane.recordKeptSourcePurged(m!.id, { by: 'purge' });
      expect(await plane.getMigration(m!.id)).toMatchObject({ step: 'purged', detail: { by: 'purge' } });
    });

    it.skipIf(skip)('keeps events in order, after an id and by subject', async () => {
      const plane = await make();
      await plane.addEvent('cli', 'cell.created', 'a', 'one');
      await plane.addEvent('cli', 'cell.created', 'b', 'two');
      await plane.addEvent('migration', 'migration.done', 'a', 'three');
      const all = await plane.eventsAfter(0);
      expect(all.map((e) => e.message)).toEqual(['one', 'two', 'three']);
      expect(all[0]).toMatchObject({ source: 'cli', kind: 'cell.created', subject: 'a' });
      expect((await plane.eventsAfter(all[0]!.id)).map((e) => e.message)).toEqual(['two', 'three']);
      expect((await plane.eventsAfter(0, 'a')).map((e) => e.message)).toEqual(['one', 'three']);
      expect((await plane.listEvents({ limit: 2 })).map((e) => e.message)).toEqual(['two', 'three']);
      expect((await plane.listEvents({ subject: 'b', limit: 10 })).map((e) => e.message)).toEqual(['two']);
    });

    it.skipIf(skip)('registers routers, tells live from stale by heartbeat age, and forgets a deregistered one', async () => {
      const plane = await make();
      const router = (id: string) => ({ id, adminUrl: `http://127.0.0.1:1/${id}`, publicUrl: 'http://127.0.0.1:2', pid: 10, host: 'h', startedAt: 'then' });
      await plane.registerRouter(router('r1'));
      await plane.registerRouter(router('r2'));
      expect((await plane.listRouters(60_000)).map((r) => [r.id, r.live])).toEqual([
        ['r1', true],
        ['r2', true],
      ]);
      await waitFor('r1 to go a second without a heartbeat', async () => (await plane.listRouters(60_000))[0]!.heartbeatAgeMs >= 1000);
      expect(await plane.heartbeatRouter('r2')).toBe(true);
      const routers = await plane.listRouters(500);
      expect(routers.map((r) => [r.id, r.live])).toEqual([
        ['r1', false],
        ['r2', true],
      ]);
      expect(routers[0]).toMatchObject({ adminUrl: 'http://127.0.0.1:1/r1', publicUrl: 'http://127.0.0.1:2', pid: 10, host: 'h', startedAt: 'then' });
      expect(await plane.heartbeatRouter('ghost')).toBe(false);
      await plane.registerRouter({ ...router('r1'), pid: 11 });
      expect((await plane.listRouters(500)).find((r) => r.id === 'r1')).toMatchObject({ pid: 11, live: true });
      await plane.deregisterRouter('r1');
      expect((await plane.listRouters(60_000)).map((r) => r.id)).toEqual(['r2']);
    });

    it.skipIf(skip)("keeps shared values (a swarm router's settings) apart from its own meta keys", async () => {
      const plane = await withCells(make);
      const version = await plane.mappingVersion();
      expect(await plane.readShared('settings')).toBeNull();
      await plane.writeShared('settings', '{"a":1}');
      await plane.writeShared('settings', '{"a":2}');
      expect(await plane.readShared('settings')).toBe('{"a":2}');
      expect(await plane.readShared('mapping_version')).toBeNull();
      expect(await plane.mappingVersion()).toBe(version);
    });

    it.skipIf(skip)('tells a watcher of every mapping change within a bounded wait', async () => {
      const plane = await withCells(make);
      const seen: number[] = [];
      const since = await plane.mappingVersion();
      const stop = plane.watchMapping((version) => seen.push(version), since);
      try {
        // A change right away (maybe before the watch is ready) is still told, from `since`.
        await plane.pinCustomers([{ customerId: 'x', cellId: 'a' }]);
        const first = await plane.mappingVersion();
        await waitFor('the first change to be told', () => seen.includes(first), 10_000);
        await plane.moveCustomer('x', 'a', 'b');
        const second = await plane.mappingVersion();
        const at = performance.now();
        await waitFor('the second change to be told', () => seen.includes(second), 10_000);
        // Well within the PostgreSQL safety poll (an hour here): the notification told it.
        expect(performance.now() - at).toBeLessThan(5000);
      } finally {
        stop();
      }
      await plane.setCellStatus('a', 'draining');
      const count = seen.length;
      expect(count).toBeGreaterThanOrEqual(2);
    });

    it.skipIf(skip)('reports itself healthy, naming where it is', async () => {
      const plane = await make();
      const health = await plane.health();
      expect(health.ok).toBe(true);
      expect(health.detail).toContain(plane.kind === 'postgres' ? '127.0.0.1' : 'control.db');
    });
  });

describe.skipIf(!pgCheck.ok)(`PostgreSQL control plane${pgCheck.ok ? '' : ` (skipped: ${pgCheck.reason})`}`, () => {
  const secret = () => server!.password;

  it('never shows the password of its URL, in any error or name', async () => {
    const good = await server!.newDatabase();
    const wrongPassword = good.replace(`:${secret()}@`, ':not-the-password-5f3a@');
    const closedPort = good.replace(`:${server!.port}/`, ':1/');
    const noDatabase = good.replace(/\/t\d+$/, '/no_such_database');
    const errors = await Promise.all(
      [wrongPassword, closedPort, noDatabase, `${good.replace('postgres://', 'mysql://')}`, good.replace(/\/t\d+$/, ''), `postgres://cellctl:${secret()}@`].map(
        (url) => errorOf(PgControlPlane.connect(url, { connectTimeoutMs: 3000 })),
      ),
    );
    for (const error of errors) {
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).not.toContain(secret());
      expect((error as Error).message).not.toContain('not-the-password-5f3a');
      expect(String((error as Error).stack)).not.toContain(secret());
    }
    expect(redactUrl(good)).not.toContain(secret());
    expect(printableLocation(good)).not.toContain(secret());
    expect([isPostgresUrl(good), isPostgresUrl('/w/control.db')]).toEqual([true, false]);
    const opened = track(await openControlPlane(good));
    expect(opened.kind).toBe('postgres');
    expect(redactUrl(`${good}?password=${secret()}`)).not.toContain(secret());
    const plane = track(await PgControlPlane.connect(good));
    expect(plane.where).not.toContain(secret());
    expect((await plane.health()).detail).not.toContain(secret());
  });

  it('lets several processes start against an empty database at once (the schema is made once)', async () => {
    const url = await server!.newDatabase();
    const planes = await Promise.all([1, 2, 3, 4].map(() => PgControlPlane.connect(url)));
    planes.forEach(track);
    await planes[0]!.insertCell(cell('a'));
    for (const plane of planes) expect((await plane.listCells()).map((c) => c.id)).toEqual(['a']);
  });

  it('reconnects by itself when its connections are cut: queries go on and the watch still tells changes', async () => {
    const url = await server!.newDatabase();
    const plane = track(await PgControlPlane.connect(url, { safetyPollMs: 3_600_000 }));
    await plane.insertCell(cell('a'));
    const seen: number[] = [];
    const stop = plane.watchMapping((version) => seen.push(version), await plane.mappingVersion());
    try {
      await plane.pinCustomers([{ customerId: 'x', cellId: 'a' }]);
      const first = await plane.mappingVersion();
      await waitFor('the watch to be told', () => seen.includes(first), 10_000);
      const admin = new pg.Client({ connectionString: server!.url() });
      await admin.connect();
      const database = new URL(url).pathname.slice(1);
      // Cuts every connection the plane holds, the listener's among them.
      try {
        await waitFor('the plane connections to be cut', async () => {
          const cut = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
          return (cut.rowCount ?? 0) > 0;
        });
      } finally {
        await admin.end();
      }
      // The first query after the cut may fail (the pool learns of the loss); the next ones must not.
      await waitFor('queries to work again', async () => (await plane.health()).ok);
      expect(await plane.customerCount()).toBe(1);
      await waitFor('a change after the cut to be told', async () => {
        await plane.pinCustomers([{ customerId: `y${seen.length}-${Date.now()}`, cellId: 'a' }]);
        const version = await plane.mappingVersion();
        return waitFor('the listener to hear it', () => seen.includes(version), 2000).then(() => true);
      });
    } finally {
      stop();
    }
  });

  it('while PostgreSQL is down: health says so, calls fail clearly (no password), and all works again once it is back', async () => {
    const own = await startPg();
    try {
      const plane = track(await PgControlPlane.connect(await own.newDatabase(), { connectTimeoutMs: 2000, safetyPollMs: 200 }));
      await plane.insertCell(cell('a'));
      const seen: number[] = [];
      const stop = plane.watchMapping((version) => seen.push(version), await plane.mappingVersion());
      await own.pause();
      const health = await plane.health();
      expect(health.ok).toBe(false);
      expect(health.detail).not.toContain(own.password);
      const refused = await errorOf(plane.getCell('a'));
      expect(refused).toMatchObject({ code: 'E_CONTROL_UNAVAILABLE' });
      expect((refused as Error).message).not.toContain(own.password);
      await own.resume();
      await waitFor('the plane to be healthy again', async () => (await plane.health()).ok);
      expect((await plane.getCell('a'))!.id).toBe('a');
      await plane.pinCustomers([{ customerId: 'x', cellId: 'a' }]);
      const version = await plane.mappingVersion();
      await waitFor('the watch to tell the change after the restart', () => seen.includes(version), 10_000);
      stop();
    } finally {
      await own.stop();
    }
  });

  it('runs concurrent mapping changes over the same rows without deadlocks', async () => {
    const plane = await withCells(newPostgres);
    const ids = Array.from({ length: 20 }, (_, i) => `k${i}`);
    await plane.pinCustomers(ids.map((customerId) => ({ customerId, cellId: 'a' })));
    for (let round = 0; round < 15; round += 1) {
      const [from, to] = round % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
      const started = await plane.startMigrations(
        ids.map((customerId) => ({ ...move, customerId, sourceCell: from, targetCell: to })),
        owner(`o${round}`),
        10_000,
      );
      const migrationIds = started.map((m) => m.id);
      // The switch takes the rows in one order while single writes (moves onto the same cell) and status changes take them in the other.
      const outcomes = await Promise.allSettled([
        plane.switchCustomers({ ids: migrationIds, owner: `o${round}`, leaseMs: 10_000, moves: ids.map((customerId) => ({ customerId, from, to })) }),
        ...[...ids].reverse().map((customerId) => plane.moveCustomer(customerId, from, from)),
        plane.setCellStatus(from, 'active'),
        plane.setCellStatus(to, 'active'),
      ]);
      const failures = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason as { code?: string; message: string });
      expect(failures.filter((f) => f.code !== 'E_MAPPING_CHANGED').map((f) => f.message)).toEqual([]);
      // Whatever won, every customer is in one piece: all moved by the switch, or the switch refused.
      const cells = new Set((await plane.listCustomers()).map((c) => c.cellId));
      if (outcomes[0]!.status === 'fulfilled') expect(cells).toEqual(new Set([to]));
      else {
        // The switch lost its race: refused as a mapping that changed, nobody moved, the journal not past it.
        expect((outcomes[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'E_MAPPING_CHANGED' });
        expect(cells).toEqual(new Set([from]));
        expect((await plane.getMigration(migrationIds[0]!))!.step).not.toBe('switched');
      }
      await plane.endMigrations(migrationIds, `o${round}`, 'done');
      // Put everyone back on the round's target, so the next round starts from one cell.
      for (const customerId of ids) await plane.moveCustomer(customerId, from, to);
    }
  });

  it('copies a control.db into an empty PostgreSQL, verified, and refuses a target that is not empty', async () => {
    const source = await withCells(newSqlite);
    await source.pinCustomers(Array.from({ length: 50 }, (_, i) => ({ customerId: `c${i}`, cellId: i % 2 ? 'a' : 'b' })));
    const [m] = await source.startMigrations([{ ...move, customerId: 'c1' }], owner('mine'), 10_000);
    await source.recordMigrationStep([m!.id], 'mine', 'fenced', { fenceId: 'f1', nested: { b: 1, a: [1, 2] } });
    await source.switchCustomers({ ids: [m!.id], owner: 'mine', leaseMs: 10_000, moves: [{ customerId: 'c1', from: 'a', to: 'b' }] });
    await source.endMigrations([m!.id], 'mine', 'done');
    await source.newFencing();
    await source.addEvent('cli', 'cell.created', 'a', 'made');
    await source.addEvent('migration', 'migration.done', 'c1', 'moved');
    const file = (source as SqliteControlPlane).where;
    const expected = summarize(readSqliteDump(file));

    const target = await newPostgres();
    const copied = await copyControlPlane(file, target);
    expect(copied).toEqual(expected);
    expect(copied.counts).toEqual({ cells: 2, customers: 50, migrations: 1, events: 2 });
    expect(await target.mappingVersion()).toBe(await source.mappingVersion());
    expect(await target.getMigration(m!.id)).toEqual(await source.getMigration(m!.id));
    expect(await target.listCells()).toEqual(await source.listCells());
    expect(await target.listCustomers()).toEqual(await source.listCustomers());
    expect(await target.listEvents({ limit: ALL })).toEqual(await source.listEvents({ limit: ALL }));
    // The copy goes on where the source stopped: newer fencing numbers, ids and versions.
    expect(await target.newFencing()).toBeGreaterThan(m!.fencing + 1);
    const [next] = await target.startMigrations([{ ...move, customerId: 'c2' }], owner('later'), 10_000);
    expect(next!.id).toBeGreaterThan(m!.id);
    await target.addEvent('cli', 'x', 'y', 'z');
    expect((await target.eventsAfter(0)).length).toBe(3);
    await target.moveCustomer('c3', 'a', 'b');
    expect(await target.mappingVersion()).toBeGreaterThan(await source.mappingVersion());

    const before = await target.listMigrations({ limit: ALL });
    expect(await errorOf(copyControlPlane(file, target))).toMatchObject({ code: 'E_CONTROL_NOT_EMPTY' });
    expect(await target.listMigrations({ limit: ALL })).toEqual(before);
  });
});
