// The stores against real SQLite files: control.db and the router's mapping table.
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OwnershipLost } from '../../src/control/records.js';
import { ControlStore } from '../../src/control/store.js';
import { MappingTable } from '../../src/router/mapping.js';
import { cleanup, newCell, tempDir } from '../helpers.js';

afterAll(cleanup);

/** A control.db as an older cellctl made it: version 2 or 3 (cells by port only, no fencing numbers). */
function olderControlDb(file: string, version: 2 | 3): Database.Database {
  ControlStore.create(file).close();
  const db = new Database(file);
  db.pragma('foreign_keys = OFF');
  db.exec(`DROP TABLE cells;
    CREATE TABLE cells (id TEXT PRIMARY KEY, template TEXT NOT NULL, template_dir TEXT NOT NULL, schema_version INTEGER NOT NULL,
      port INTEGER NOT NULL UNIQUE, capacity INTEGER NOT NULL CHECK (capacity > 0), health_path TEXT NOT NULL DEFAULT '/health',
      status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'draining')), created_at TEXT NOT NULL
      ${version === 3 ? ', first_healthy_at TEXT' : ''});
    ALTER TABLE migrations DROP COLUMN fencing;
    DELETE FROM meta WHERE key = 'fencing_seq';
    UPDATE meta SET value = '${version}' WHERE key = 'schema_version';`);
  return db;
}

function newStore(): ControlStore {
  const store = ControlStore.create(path.join(tempDir(), 'control.db'));
  for (const id of ['a', 'b']) store.insertCell({ ...newCell(id), port: id === 'a' ? 9001 : 9002 });
  for (const id of ['a', 'b']) store.markCellHealthy(id);
  return store;
}

describe('control store', () => {
  it('pins never move a customer, and moves are conditional on the source', () => {
    const store = newStore();
    expect(store.pinCustomers([{ customerId: 'x', cellId: 'a' }])).toEqual(['x']);
    expect(store.pinCustomers([{ customerId: 'x', cellId: 'b' }])).toEqual([]);
    expect(store.getCustomer('x')?.cellId).toBe('a');
    expect(store.moveCustomer('x', 'b', 'a')).toBe(false);
    expect(store.moveCustomer('x', 'a', 'b')).toBe(true);
    expect(store.customerCounts()).toEqual(new Map([['b', 1]]));
  });

  it('bumps the mapping version on every mapping or cell change', () => {
    const store = newStore();
    const v0 = store.mappingVersion();
    store.pinCustomers([{ customerId: 'x', cellId: 'a' }]);
    const v1 = store.mappingVersion();
    store.moveCustomer('x', 'a', 'b');
    const v2 = store.mappingVersion();
    store.setCellStatus('a', 'draining');
    expect([v1 > v0, v2 > v1, store.mappingVersion() > v2]).toEqual([true, true, true]);
  });

  const move = { customerId: 'x', sourceCell: 'a', targetCell: 'b', keepSourceUntil: null, batch: null, step: 'checked' as const };
  const owner = (token: string) => ({ token, pid: 4242, host: 'h', started: '1' });

  it('allows one running migration per customer', () => {
    const store = newStore();
    const [first] = store.startMigrations([move], owner('t1'), 10_000);
    expect(() => store.startMigrations([move], owner('t2'), 10_000)).toThrow(/already has migration 1 running/);
    store.endMigrations([first!.id], 't1', 'done');
    expect(store.startMigrations([move], owner('t3'), 10_000)[0]!.id).toBe(2);
  });

  it('writes the journal only for the owner, and lets another take over only as it was seen', () => {
    const store = newStore();
    const [started] = store.startMigrations([move], owner('mine'), 10_000);
    const id = started!.id;
    expect(started!.owner).toMatchObject({ token: 'mine', pid: 4242, host: 'h', started: '1' });
    store.recordMigrationStep([id], 'mine', 'fenced', { fenceId: 'f1' });
    expect(() => store.recordMigrationStep([id], 'thief', 'copied')).toThrow(OwnershipLost);
    expect(() => store.endMigrations([id], 'thief', 'aborted')).toThrow(OwnershipLost);
    expect(() => store.renewLease([id], 'thief', 10_000)).toThrow(OwnershipLost);
    const seen = store.getMigration(id)!.owner;
    // A renewal after it was seen makes the takeover fail: the owner is alive.
    store.renewLease([id], 'mine', 20_000);
    expect(store.takeOverMigration(id, seen, owner('new'), 10_000)).toBe(false);
    const seenAgain = store.getMigration(id)!.owner;
    expect(store.takeOverMigration(id, seenAgain, owner('new'), 10_000)).toBe(true);
    expect(store.takeOverMigration(id, seenAgain, owner('third'), 10_000)).toBe(false);
    expect(() => store.recordMigrationStep([id], 'mine', 'copied')).toThrow(OwnershipLost);
    expect(() => store.renewLease([id], 'mine', 10_000)).toThrow(OwnershipLost);
    store.recordMigrationStep([id], 'new', 'copied');
    expect(store.getMigration(id)).toMatchObject({ step: 'copied', detail: { fenceId: 'f1' }, owner: { token: 'new' } });
  });

  it('a journal write of a batch changes no row unless it owns them all', () => {
    const store = newStore();
    const [a, b] = store.startMigrations([move, { ...move, customerId: 'y' }], owner('mine'), 10_000);
    expect(store.takeOverMigration(b!.id, store.getMigration(b!.id)!.owner, owner('new'), 10_000)).toBe(true);
    expect(() => store.recordMigrationStep([a!.id, b!.id], 'mine', 'fenced')).toThrow(OwnershipLost);
    expect(store.getMigration(a!.id)!.step).toBe('checked');
  });

  it('upgrades a version-1 control.db, keeping its journal', () => {
    const file = path.join(tempDir(), 'control.db');
    const db = olderControlDb(file, 2);
    db.exec(`ALTER TABLE migrations DROP COLUMN owner; ALTER TABLE migrations DROP COLUMN owner_pid; ALTER TABLE migrations DROP COLUMN owner_host;
             ALTER TABLE migrations DROP COLUMN owner_started; ALTER TABLE migrations DROP COLUMN lease_until;
             UPDATE meta SET value = '1' WHERE key = 'schema_version';
             INSERT INTO migrations (customer_id, source_cell, target_cell, step, state, started_at, updated_at) VALUES ('x', 'a', 'b', 'copied', 'running', 'now', 'now');`);
    db.close();
    const store = ControlStore.open(file);
    expect(store.getMigration(1)).toMatchObject({ step: 'copied', state: 'running', owner: null });
    expect(store.takeOverMigration(1, null, owner('new'), 10_000)).toBe(true);
  });

  it('upgrades a version-3 control.db: cells get URLs and a data port, the journal gets fencing numbers that only grow', () => {
    const file = path.join(tempDir(), 'control.db');
    const db = olderControlDb(file, 3);
    db.exec(`INSERT INTO cells (id, template, template_dir, schema_version, port, capacity, created_at, first_healthy_at) VALUES ('a', 'basic', '/t', 1, 8101, 5, 'then', 'then');
             INSERT INTO customers (id, cell_id, created_at) VALUES ('x', 'a', 'then');`);
    db.close();
    const store = ControlStore.open(file);
    expect(store.getCell('a')).toMatchObject({ url: 'http://127.0.0.1:8101', dataUrl: 'http://127.0.0.1:9101', dataPort: 9101, managed: true });
    expect(store.getCustomer('x')).toMatchObject({ cellId: 'a' });
    store.insertCell({ ...newCell('b'), port: 8101, url: 'http://10.0.0.2:8101', dataPort: null, managed: false });
    const before = store.mappingVersion();
    store.setCellStatus('b', 'draining');
    expect(store.mappingVersion()).toBe(before + 1);
    const [first] = store.startMigrations([{ ...move, customerId: 'x', sourceCell: 'a', targetCell: 'b' }], owner('one'), 10_000);
    expect(first!.fencing).toBe(1);
    expect(store.takeOverMigration(first!.id, first!.owner, owner('two'), 10_000)).toBe(true);
    expect(store.getMigration(first!.id)!.fencing).toBe(2);
    expect(store.newFencing()).toBe(3);
  });

  it('upgrades a version-2 control.db: its cells stay in placement, new ones wait until healthy', () => {
    const file = path.join(tempDir(), 'control.db');
    const db = olderControlDb(file, 2);
    db.exec(`INSERT INTO cells (id, template, template_dir, schema_version, port, capacity, created_at) VALUES ('old', 'basic', '/t', 1, 9001, 5, 'then');`);
    db.close();
    const store = ControlStore.open(file);
    expect(store.getCell('old')).toMatchObject({
      firstHealthyAt: 'then',
      url: 'http://127.0.0.1:9001',
      dataUrl: 'http://127.0.0.1:10001',
      dataPort: 10001,
      managed: true,
    });
    store.insertCell({ ...newCell('new'), port: 9002 });
    const table = new MappingTable('hash');
    table.refresh(store);
    expect(table.lookup('anyone')).toEqual({ cellId: 'old', rule: 'placement' });
    store.markCellHealthy('new');
    const first = store.getCell('new')!.firstHealthyAt;
    expect(first).not.toBeNull();
    store.markCellHealthy('new');
    expect(store.getCell('new')!.firstHealthyAt).toBe(first);
  });

  it('refuses a file that is not a control database', () => {
    const file = path.join(tempDir(), 'control.db');
    new Database(file).exec('CREATE TABLE t (x)');
    expect(() => ControlStore.open(file)).toThrow(/not a cellctl control database/);
  });
});

describe('router mapping table', () => {
  it('refreshes incrementally, notices deletions, and places unmapped customers', () => {
    const store = newStore();
    const table = new MappingTable('hash');
    store.pinCustomers([
      { customerId: 'x', cellId: 'a' },
      { customerId: 'y', cellId: 'b' },
    ]);
    expect(table.refresh(store)).toBe(true);
    expect(table.lookup('x')).toEqual({ cellId: 'a', rule: 'mapping' });
    expect(table.refresh(store)).toBe(false);
    store.moveCustomer('x', 'a', 'b');
    table.refresh(store);
    expect(table.lookup('x')).toEqual({ cellId: 'b', rule: 'mapping' });
    expect(table.customersIn('b')).toBe(2);
    store.deleteCell('b');
    table.refresh(store);
    expect(table.size).toBe(0);
    expect(table.lookup('x')).toEqual({ cellId: 'a', rule: 'placement' });
  });

  it('counts creates in flight against a cell capacity until their answer: together they cannot fill it past it', () => {
    const store = ControlStore.create(path.join(tempDir(), 'control.db'));
    store.insertCell({ ...newCell('a'), capacity: 2 });
    store.markCellHealthy('a');
    const table = new MappingTable('hash');
    table.refresh(store);
    expect(table.lookup('n1')).toEqual({ cellId: 'a', rule: 'placement' });
    const first = table.reserve('a');
    const second = table.reserve('a');
    // Two creates in flight fill the cell: a third is not placed there.
    expect(table.lookup('n3')).toBeNull();
    first();
    first(); // released once, whatever the caller does
    expect(table.lookup('n3')).toEqual({ cellId: 'a', rule: 'placement' });
    second();
    table.assign('n1', 'a');
    table.assign('n2', 'a');
    expect(table.lookup('n3')).toBeNull();
  });
});
