// The data API's row layer against real SQLite files: wire values keep each value's SQLite type, the
// checksum of an exported page equals the one the target computes on import, and the barrier's
// triggers refuse another connection's writes to a barred customer only.
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeBarrier } from '../../src/data/barrier.js';
import { requests } from '../../src/data/protocol.js';
import { DataService } from '../../src/data/service.js';
import { parseDataTables } from '../../src/data/tables.js';
import { CellctlError } from '../../src/shared/errors.js';
import { cleanup, tempDir } from '../helpers.js';

/** Why python3's sqlite3 cannot run here (that test then skips saying so), or null. */
const PYTHON_SKIP =
  spawnSync('python3', ['-c', 'import sqlite3'], { encoding: 'utf8' }).status === 0 ? null : 'no python3 with sqlite3 (apt-get install -y python3)';
if (PYTHON_SKIP) console.warn(`a data-rows test is skipped: ${PYTHON_SKIP}`);

afterAll(cleanup);

const SCHEMA = `
CREATE TABLE owners (id TEXT PRIMARY KEY, cell TEXT, n INTEGER, r REAL, anything, t TEXT, b BLOB);
CREATE TABLE notes (id INTEGER PRIMARY KEY, owner TEXT NOT NULL REFERENCES owners(id), body TEXT, v);
`;
const TABLES = parseDataTables([
  { table: 'notes', customerColumn: 'owner', parent: 'owners' },
  { table: 'owners', customerColumn: 'id', cellColumn: 'cell' },
]);

function cellDb(name: string): string {
  const file = path.join(tempDir(), `${name}.db`);
  const db = new Database(file);
  db.exec(SCHEMA);
  db.close();
  return file;
}

/** One row of every kind, written with literal SQL so the types are SQLite's own. */
const SEED = `
INSERT INTO owners VALUES ('a', 'src', 9007199254740993, 2.0, 3.0, 'text', x'00ff10');
INSERT INTO owners VALUES ('b', 'src', -5, 2.5, 7, NULL, NULL);
INSERT INTO owners VALUES ('c', 'src', 1, 1.5, 'x', 'other customer', NULL);
INSERT INTO notes (owner, body, v) VALUES ('a', 'n1', 4.0), ('a', 'n2', 12345678901234567), ('b', 'n3', x'01'), ('c', 'n4', 1);
`;

const types = (file: string, table: string) =>
  new Database(file, { readonly: true })
    .prepare(
      `SELECT ${table === 'owners' ? 'id, typeof(n), typeof(r), typeof(anything), typeof(t), typeof(b), n, r, anything, hex(b)' : 'owner, body, typeof(v), v'} FROM ${table} ORDER BY 1, 2`,
    )
    .safeIntegers(true)
    .all();

describe('the table declaration', () => {
  it('is put parents first, and a cycle, an undeclared parent or a bad name is refused', () => {
    const tables = parseDataTables([
      { table: 'c', customerColumn: 'x', parent: 'b' },
      { table: 'b', customerColumn: 'x', parent: 'a' },
      { table: 'a', customerColumn: 'x' },
    ]);
    expect(tables.map((t) => t.table)).toEqual(['a', 'b', 'c']);
    expect(tables[0]).toEqual({ table: 'a', customerColumn: 'x', parent: null, cellColumn: null });
    const refused = (raw: unknown) => () => parseDataTables(raw);
    expect(
      refused([
        { table: 'a', customerColumn: 'x', parent: 'b' },
        { table: 'b', customerColumn: 'x', parent: 'a' },
      ]),
    ).toThrow(/cycle/);
    expect(refused([{ table: 'a', customerColumn: 'x', parent: 'z' }])).toThrow(/not a declared/);
    expect(refused([{ table: 'a; drop', customerColumn: 'x' }])).toThrow(CellctlError);
    expect(refused([])).toThrow(/at least one/);
  });
});

describe('wire values', () => {
  /** A page of one owners row holding `values` in (n, r, anything, t, b), exported by one cell and imported by another. */
  function roundTrip(values: unknown[]): { sent: string; back: unknown[] } {
    const sourceFile = cellDb('wire-source');
    const seed = new Database(sourceFile);
    seed.prepare('INSERT INTO owners VALUES (?, ?, ?, ?, ?, ?, ?)').run('w', 'src', ...values);
    seed.close();
    const source = new DataService({ dbFile: sourceFile, cellId: 'src', tables: TABLES });
    const target = new DataService({ dbFile: cellDb('wire-target'), cellId: 'dst', tables: TABLES });
    const { page } = source.export(requests.export.parse({ customers: ['w'] }));
    target.import(requests.import.parse({ move: 1, fencing: 1, customers: ['w'], page: JSON.parse(JSON.stringify(page)) }));
    const back = target.db.prepare("SELECT n, r, anything, t, b FROM owners WHERE id = 'w'").safeIntegers(true).raw().get() as unknown[];
    source.close();
    target.close();
    return { sent: page!.sections[0]!.rows, back };
  }

  it('carries every SQLite type exactly: integers of any size, reals to the last bit, text, blobs, null', () => {
    const reals = [0.1 + 0.2, 1 / 3, 5e-324, -1.7976931348623157e308, 2 ** 53 + 2, 2.0, Infinity];
    for (const r of reals) expect(roundTrip([1n, r, r, 't', null]).back.slice(1, 3), String(r)).toEqual([r, r]);
    // −0.0 keeps its sign where SQLite keeps it: in a column without REAL affinity (one with it stores −0.0 as the integer 0).
    expect(Object.is(roundTrip([1n, -0, -0, 't', null]).back[2], -0)).toBe(true);
    const { sent, back } = roundTrip([2n ** 62n + 1n, 2.5, -(2n ** 60n), 'text "quoted", with commas', Buffer.from([0, 1, 255])]);
    expect(back).toEqual([2n ** 62n + 1n, 2.5, -(2n ** 60n), 'text "quoted", with commas', Buffer.from([0, 1, 255])]);
    // The rows are text SQLite wrote: the big integer as digits, the real and the blob tagged.
    expect(sent).toContain(`{"$i":"${2n ** 62n + 1n}"}`);
    expect(sent).toContain('{"$r":"2.5"}');
    expect(sent).toContain('{"$x":"0001FF"}');
    expect(roundTrip([null, null, Buffer.alloc(0), '', null]).back).toEqual([null, null, Buffer.alloc(0), '', null]);
  });

  it('refuses a page whose rows are not wire values, saying where, and stores nothing', () => {
    const target = new DataService({ dbFile: cellDb('wire-bad'), cellId: 'dst', tables: TABLES });
    const columns = ['id', 'n', 'r'];
    const refused = (rows: string, count = 1) => {
      try {
        target.import(
          requests.import.parse({ move: 1, fencing: 1, customers: ['w'], page: { key: 'k', sections: [{ table: 'owners', columns, count, rows }] } }),
        );
        return 'stored';
      } catch (error) {
        return `${(error as { status?: number }).status} ${(error as Error).message}`;
      }
    };
    expect(refused('not json')).toMatch(/^400 .*must be the text of a JSON array/);
    expect(refused('{"a": 1}')).toMatch(/^400 .*must be the text of a JSON array/);
    expect(refused('[["w", 1]]')).toMatch(/^400 .*rows\[0\] is not an array of 3 values/);
    expect(refused('[["w", 1, true]]')).toMatch(/^400 .*rows\[0\]\[2\]: true is not a wire value/);
    expect(refused('[["w", 1, [2]]]')).toMatch(/^400 .*rows\[0\]\[2\]: \[2\] is not a wire value/);
    expect(refused('[["w", 1, 2.5]]')).toMatch(/^400 .*rows\[0\]\[2\]: 2.5 is a bare number/);
    expect(refused('[["w", 1, {"$x": "zz"}]]')).toMatch(/^400 .*rows\[0\]\[2\]: .* is not a wire value/);
    expect(refused('[["w", 1, {"$r": "2.5", "more": 1}]]')).toMatch(/^400 .*rows\[0\]\[2\]: .* is not a wire value/);
    expect(refused('[["w", 1, {"$r": "two"}]]')).toMatch(/^400 .*rows\[0\]\[2\]: .* is not a wire value/);
    expect(refused('[["w", 1, {"$i": "1.5"}]]')).toMatch(/^400 .*rows\[0\]\[2\]: .* is not a wire value/);
    expect(refused(`[["w", 1, {"$i": "${2n ** 63n}"}]]`)).toMatch(/^400 .*rows\[0\]\[2\]: .* outside SQLite's 64-bit integer range/);
    expect(refused(`[["w", {"$i": "${-(2n ** 63n) - 1n}"}, 1]]`)).toMatch(/^400 .*rows\[0\]\[1\]: .* outside SQLite's 64-bit integer range/);
    expect(refused('[["w", 1, 2]]', 2)).toMatch(/^400 .*count is 2 but rows holds 1/);
    expect(refused('[["v", 1, 2]]')).toMatch(/^422 .*customer "v"/);
    expect(target.db.prepare('SELECT count(*) FROM owners').pluck().get()).toBe(0);
    expect(refused('[["w", 1, {"$r": "2.5"}]]')).toBe('stored');
    const smallest = { key: 'k2', sections: [{ table: 'owners', columns, count: 1, rows: `[["x", {"$i": "${-(2n ** 63n)}"}, 1]]` }] };
    target.import(requests.import.parse({ move: 2, fencing: 2, customers: ['x'], page: smallest }));
    expect(target.db.prepare("SELECT n FROM owners WHERE id = 'x'").safeIntegers(true).pluck().get()).toBe(-(2n ** 63n));
    target.close();
  });
});

describe('export and import', () => {
  it('moves rows with their types, writes the target cell id, and both sides compute the same checksums', () => {
    const sourceFile = cellDb('source');
    const targetFile = cellDb('target');
    const seed = new Database(sourceFile);
    seed.exec(SEED);
    seed.close();
    const source = new DataService({ dbFile: sourceFile, cellId: 'src', tables: TABLES });
    const target = new DataService({ dbFile: targetFile, cellId: 'dst', tables: TABLES });
    const customers = ['a', 'b'];
    let cursor = null;
    const pages: string[][] = [];
    for (let i = 0; i < 20; i += 1) {
      const { page, next } = source.export(requests.export.parse({ customers, cursor, limit: 3 }));
      if (page) {
        pages.push(page.sections.map((section) => section.table));
        const stored = target.import(requests.import.parse({ move: 1, fencing: 1, customers, page: JSON.parse(JSON.stringify(page)) }));
        const sent = page.sections.map((section) => ({ table: section.table, rows: section.count }));
        expect(stored).toEqual({ rows: sent.reduce((sum, t) => sum + t.rows, 0), tables: sent, replayed: false });
      }
      if (!next) break;
      cursor = next;
    }
    // Pages of three rows, parents first: the page that ends a table goes on into the next.
    expect(pages).toEqual([['owners', 'notes'], ['notes']]);
    // The same rows under another move collide with what is stored: refused whole, nothing written.
    const again = source.export(requests.export.parse({ customers, cursor: null, limit: 2 })).page!;
    expect(() => target.import(requests.import.parse({ move: 2, fencing: 2, customers, page: again }))).toThrow(
      expect.objectContaining({ status: 409, code: 'conflict' }),
    );
    expect(target.summary({ customers })).toEqual(source.summary({ customers }));
    expect(target.summary({ customers }).tables.map((t) => t.rows)).toEqual([2, 3]);
    expect(types(targetFile, 'owners')).toEqual(types(sourceFile, 'owners').filter((row: any) => row.id !== 'c'));
    expect(types(targetFile, 'notes')).toEqual(types(sourceFile, 'notes').filter((row: any) => row.owner !== 'c'));
    const cells = new Database(targetFile, { readonly: true }).prepare('SELECT DISTINCT cell FROM owners').pluck().all();
    expect(cells).toEqual(['dst']);
    // A different value changes the checksum (the check compares something).
    const changed = new Database(targetFile);
    changed.prepare("UPDATE owners SET r = 2.25 WHERE id = 'a'").run();
    changed.close();
    expect(target.summary({ customers }).tables[0]!.checksum).not.toBe(source.summary({ customers }).tables[0]!.checksum);
    source.close();
    target.close();
  });
});

/** A seeded cell whose data API has barred customer a (move 3, fencing 5). */
function barredCell(name: string): { file: string; service: DataService } {
  const file = cellDb(name);
  const seed = new Database(file);
  seed.exec(SEED);
  seed.close();
  const service = new DataService({ dbFile: file, cellId: 'src', tables: TABLES });
  service.barrier({ move: 3, fencing: 5, customers: ['a'] });
  return { file, service };
}

describe('the barrier triggers', () => {
  it("a cell of the previous version gets the tombstone table and this version's triggers when its data API starts", () => {
    const file = cellDb('older');
    const old = new Database(file);
    old.exec(SEED);
    // What data API version 2 left: its state tables (no tombstones) and its triggers.
    old.exec(`CREATE TABLE _cellctl_barrier (customer TEXT PRIMARY KEY, move INTEGER NOT NULL, since TEXT NOT NULL);
      CREATE TABLE _cellctl_bypass (only INTEGER PRIMARY KEY CHECK (only = 1));
      CREATE TABLE _cellctl_fencing (customer TEXT PRIMARY KEY, fencing INTEGER NOT NULL);
      CREATE TRIGGER _cellctl_barrier_v2_notes_ins BEFORE INSERT ON notes WHEN EXISTS (SELECT 1 FROM _cellctl_barrier WHERE customer = NEW.owner)
        BEGIN SELECT RAISE(ABORT, 'cellctl: customer is barred by a move'); END;
      INSERT INTO _cellctl_fencing VALUES ('a', 9);`);
    old.close();
    const service = new DataService({ dbFile: file, cellId: 'old', tables: TABLES });
    const triggers = service.db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name").pluck().all() as string[];
    expect(triggers.length).toBeGreaterThan(0);
    expect(triggers.every((name) => name.startsWith('_cellctl_barrier_v3_'))).toBe(true);
    expect(service.info()).toMatchObject({ api: 4, fencing: 9 });
    expect(service.barriers()).toEqual({ barriers: [], tombstones: [] });
    service.close();
  });

  it.skipIf(PYTHON_SKIP !== null)(`refuse another program's writes the same way (python's sqlite3)${PYTHON_SKIP ? `: skipped, ${PYTHON_SKIP}` : ''}`, () => {
    const { file, service } = barredCell('barred-python');
    const python = spawnSync(
      'python3',
      [
        '-c',
        `import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\ntry:\n  c.execute("INSERT INTO notes (owner, body) VALUES ('a', 'py')"); c.commit(); print('written')\nexcept sqlite3.DatabaseError as e: print('refused', e)`,
        file,
      ],
      { encoding: 'utf8' },
    );
    expect(python.status, python.stderr).toBe(0);
    expect(python.stdout).toMatch(/^refused .*barred/);
    service.close();
  });

  it("refuse another connection's writes to a barred customer, and only those; the data API's own writes pass", () => {
    const { file, service } = barredCell('barred');
    const app = new Database(file);
    expect(() => app.prepare("INSERT INTO notes (owner, body) VALUES ('a', 'late')").run()).toThrow(/barred/);
    expect(() => app.prepare("UPDATE owners SET t = 'changed' WHERE id = 'a'").run()).toThrow(/barred/);
    expect(() => app.prepare("UPDATE notes SET owner = 'a' WHERE owner = 'c'").run()).toThrow(/barred/);
    expect(() => app.prepare("DELETE FROM notes WHERE owner = 'a'").run()).toThrow(/barred/);
    app.prepare("INSERT INTO notes (owner, body) VALUES ('b', 'fine')").run();
    expect(app.prepare("SELECT COUNT(*) FROM notes WHERE owner = 'a'").pluck().get()).toBe(2);
    // A stale mover cannot lift it; the current one purges through it and the barrier becomes a
    // tombstone: the customer lives elsewhere now, so a stale router's write (even a create) is refused.
    expect(() => service.unbar({ move: 2, fencing: 4, customers: ['a'] })).toThrow(/fencing/);
    expect(service.purge({ move: 3, fencing: 5, customers: ['a'], limit: 1 })).toEqual({ removed: 1, done: false });
    expect(service.purge({ move: 3, fencing: 5, customers: ['a'], limit: 100 })).toEqual({ removed: 2, done: true });
    expect(service.barriers()).toMatchObject({ barriers: [], tombstones: [{ customer: 'a', fencing: 5 }] });
    expect(() => app.prepare("INSERT INTO owners (id) VALUES ('a')").run()).toThrow(/barred/);
    expect(service.info().fencing).toBe(5);
    // Only a placement at least as new drops it (a move bringing the customer back, or repair).
    expect(() => service.unbar({ move: 4, fencing: 4, customers: ['a'] })).toThrow(/fencing/);
    service.unbar({ move: 7, fencing: 7, customers: ['a'] });
    expect(service.barriers().tombstones).toEqual([]);
    app.prepare("INSERT INTO owners (id) VALUES ('a')").run();
    service.barrier({ move: 6, fencing: 6, customers: ['b'] });
    expect(removeBarrier(service.db)).toBe(6);
    app.prepare("DELETE FROM notes WHERE owner = 'b'").run();
    app.close();
    service.close();
  });
});
