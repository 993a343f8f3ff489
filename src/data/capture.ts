// Change capture for online moves (DESIGN.md "Online moves"): while a move copies a customer's rows
// unfenced, triggers on every declared table record the key of each row of that customer that an
// insert, update or delete touches, whatever program writes it (the built-in app, a user's app in any
// language). The mover then re-reads those rows by key and applies them to the target, round after
// round, and under the fence only the last few (pt-online-schema-change's change table, per customer).
//
// The triggers and both tables exist only while a capture runs: the last capture to stop drops them,
// so a cell that no move touches carries nothing of it. The triggers use SQLite's built-in functions
// only (they run in the app's connections too), and never raise: a capture must not fail a write.
import type Database from 'better-sqlite3';
import { wireValueSql } from './rows.js';
import { type DataTable, quoteIdent } from './tables.js';

/** Bumped when the triggers' text changes: a capture started by a newer cellctl replaces older ones. */
export const CAPTURE_VERSION = 1;
const TRIGGER_PREFIX = '_cellctl_capture_v';

const STATE_TABLES = `
CREATE TABLE IF NOT EXISTS _cellctl_capture (customer TEXT PRIMARY KEY, move INTEGER NOT NULL, since TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS _cellctl_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, move INTEGER NOT NULL, tbl TEXT NOT NULL, key TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS _cellctl_changes_move ON _cellctl_changes (move, seq);
`;

/**
 * A key column's value as a wire value (rows.ts): never an error, whatever the type (json_array of a
 * BLOB would raise, and fail the app's write). The app's connection has no cellctl function: a REAL
 * is rendered with 17 significant digits, which read back to the same double.
 */
const keyValueSql = (row: 'NEW' | 'OLD', column: string): string => wireValueSql(`${row}.${quoteIdent(column)}`, (value) => `printf('%!.17g', ${value})`);

/** A row's key as the change table keeps it: a JSON array of its key columns' wire values. */
const keySql = (row: 'NEW' | 'OLD', key: readonly string[]): string => `json_array(${key.map((column) => keyValueSql(row, column)).join(', ')})`;

const triggerName = (table: string, op: string, version = CAPTURE_VERSION) => `${TRIGGER_PREFIX}${version}_${table}_${op}`;

/** A declared table with the columns of its primary key (online moves need one). */
export interface KeyedTable {
  decl: DataTable;
  key: string[];
}

function triggerSql({ decl, key }: KeyedTable, op: 'ins' | 'upd' | 'del'): string {
  const customer = quoteIdent(decl.customerColumn);
  const table = quoteIdent(decl.table);
  const name = decl.table.replace(/'/g, "''");
  const record = (row: 'NEW' | 'OLD', extra = '') =>
    `INSERT INTO _cellctl_changes (move, tbl, key) SELECT move, '${name}', ${keySql(row, key)} FROM _cellctl_capture WHERE customer = ${row}.${customer}${extra};`;
  const captured = (row: 'NEW' | 'OLD') => `EXISTS (SELECT 1 FROM _cellctl_capture WHERE customer = ${row}.${customer})`;
  if (op === 'ins')
    return `CREATE TRIGGER ${quoteIdent(triggerName(decl.table, op))} AFTER INSERT ON ${table} WHEN ${captured('NEW')} BEGIN ${record('NEW')} END`;
  if (op === 'del')
    return `CREATE TRIGGER ${quoteIdent(triggerName(decl.table, op))} AFTER DELETE ON ${table} WHEN ${captured('OLD')} BEGIN ${record('OLD')} END`;
  // An update records the old key, and the new one too when the key or the customer changed.
  const moved = [decl.customerColumn, ...key].map((column) => `OLD.${quoteIdent(column)} IS NOT NEW.${quoteIdent(column)}`).join(' OR ');
  return `CREATE TRIGGER ${quoteIdent(triggerName(decl.table, op))} AFTER UPDATE ON ${table} WHEN ${captured('OLD')} OR ${captured('NEW')}
  BEGIN ${record('OLD')} ${record('NEW', ` AND (${moved})`)} END`;
}

/** cellctl's capture triggers in the database (any version). */
function ourTriggers(db: Database.Database): string[] {
  return db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND substr(name, 1, length(?)) = ?")
    .pluck()
    .all(TRIGGER_PREFIX, TRIGGER_PREFIX) as string[];
}

const hasCaptureTables = (db: Database.Database): boolean =>
  db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('_cellctl_capture', '_cellctl_changes')").pluck().get() === 2;

/**
 * Starts capturing these customers' changes for `move` (inside the caller's transaction): the tables
 * and this version's triggers are made if missing, and the move's earlier changes (a move started
 * again) are dropped, with those of moves no longer capturing.
 */
export function startCapture(db: Database.Database, tables: readonly KeyedTable[], move: number, customers: string): void {
  db.exec(STATE_TABLES);
  const wanted = new Map(tables.flatMap((table) => (['ins', 'upd', 'del'] as const).map((op) => [triggerName(table.decl.table, op), triggerSql(table, op)])));
  const present = new Set<string>();
  for (const name of ourTriggers(db)) {
    if (wanted.has(name)) present.add(name);
    else db.exec(`DROP TRIGGER ${quoteIdent(name)}`);
  }
  for (const [name, sql] of wanted) if (!present.has(name)) db.exec(sql);
  db.prepare(
    `INSERT INTO _cellctl_capture (customer, move, since) SELECT value, ?, ? FROM json_each(?) WHERE true
     ON CONFLICT (customer) DO UPDATE SET move = excluded.move, since = excluded.since`,
  ).run(move, new Date().toISOString(), customers);
  db.prepare('DELETE FROM _cellctl_changes WHERE move = ? OR move NOT IN (SELECT move FROM _cellctl_capture)').run(move);
}

/**
 * Stops capturing these customers (inside the caller's transaction) and forgets changes no capture
 * needs; the last capture to stop drops the triggers and both tables. Idempotent.
 */
export function stopCapture(db: Database.Database, customers: string): { capturing: number } {
  if (!hasCaptureTables(db)) {
    for (const name of ourTriggers(db)) db.exec(`DROP TRIGGER ${quoteIdent(name)}`);
    return { capturing: 0 };
  }
  db.prepare('DELETE FROM _cellctl_capture WHERE customer IN (SELECT value FROM json_each(?))').run(customers);
  const capturing = db.prepare('SELECT COUNT(*) FROM _cellctl_capture').pluck().get() as number;
  if (capturing > 0) {
    db.prepare('DELETE FROM _cellctl_changes WHERE move NOT IN (SELECT move FROM _cellctl_capture)').run();
    return { capturing };
  }
  for (const name of ourTriggers(db)) db.exec(`DROP TRIGGER ${quoteIdent(name)}`);
  db.exec('DROP TABLE _cellctl_changes; DROP TABLE _cellctl_capture');
  return { capturing: 0 };
}

/** The changes of `move` after `after`, oldest first, at most `limit`; and how many are left after them. */
export function readChanges(
  db: Database.Database,
  move: number,
  after: number,
  limit: number,
): { changes: { seq: number; tbl: string; key: string }[]; left: number } {
  if (!hasCaptureTables(db)) return { changes: [], left: 0 };
  const changes = db.prepare('SELECT seq, tbl, key FROM _cellctl_changes WHERE move = ? AND seq > ? ORDER BY seq LIMIT ?').all(move, after, limit) as {
    seq: number;
    tbl: string;
    key: string;
  }[];
  const last = changes.at(-1)?.seq ?? after;
  const left = db.prepare('SELECT COUNT(*) FROM _cellctl_changes WHERE move = ? AND seq > ?').pluck().get(move, last) as number;
  return { changes, left };
}

/** Whether a capture of `move` is running here (a move's change table exists and names it). */
export function capturing(db: Database.Database, move: number): boolean {
  return hasCaptureTables(db) && db.prepare('SELECT 1 FROM _cellctl_capture WHERE move = ? LIMIT 1').get(move) !== undefined;
}

/**
 * The primary key of a declared table, or why an online move cannot match its changes to rows: no
 * primary key, or a WITHOUT ROWID table (its copy is read back by rowid).
 */
export function primaryKeyOf(db: Database.Database, table: string): { key: string[] } | { why: string } {
  const columns = db.pragma(`table_xinfo(${quoteIdent(table)})`) as { name: string; pk: number }[];
  const key = columns
    .filter((column) => column.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((column) => column.name);
  if (key.length === 0) return { why: `table "${table}" has no primary key, so a change cannot be matched to its row` };
  const withoutRowid = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").pluck().get(table) as string | undefined;
  if (withoutRowid !== undefined && /\)\s*WITHOUT\s+ROWID\s*(,|;|$)/i.test(withoutRowid.trim()))
    return { why: `table "${table}" is WITHOUT ROWID, which online moves do not copy` };
  return { key };
}
