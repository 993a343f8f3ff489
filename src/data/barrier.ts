// The write barrier, kept by the database itself: triggers on every declared customer table refuse
// an insert, update or delete of a barred customer's row (whatever program writes it: the built-in
// app, a user's app in any language), unless the writer is the data API's own transaction, which
// marks itself with a row in _cellctl_bypass that no other connection ever sees (it is deleted
// before commit). The technique online schema-change tools use to watch writes they do not own.
//
// Two kinds of refusal share the triggers: a *barrier* (a move is taking the customer away; lifted
// when it ends or rolls back) and a *tombstone* (the customer's rows were purged here because it lives
// in another cell; dropped only when a move or a placement brings the customer back). The tombstone
// is what keeps a stale router, paused for any length of time, from landing a write in a cell the
// customer has left.
import type Database from 'better-sqlite3';
import { BARRED_WRITE_MESSAGE } from '../shared/sqlite-requests.js';
import { type DataTable, quoteIdent } from './tables.js';

/** Bumped when the triggers' text changes: starting the data API replaces older versions. */
export const BARRIER_VERSION = 3;
const TRIGGER_PREFIX = '_cellctl_barrier_v';

const STATE_TABLES = `
CREATE TABLE IF NOT EXISTS _cellctl_barrier (customer TEXT PRIMARY KEY, move INTEGER NOT NULL, since TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS _cellctl_bypass (only INTEGER PRIMARY KEY CHECK (only = 1));
CREATE TABLE IF NOT EXISTS _cellctl_tombstone (customer TEXT PRIMARY KEY, fencing INTEGER NOT NULL, since TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS _cellctl_fencing (customer TEXT PRIMARY KEY, fencing INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS _cellctl_imports (move INTEGER NOT NULL, key TEXT NOT NULL, tbl TEXT NOT NULL, rows INTEGER NOT NULL, checksum INTEGER NOT NULL, PRIMARY KEY (move, key));
CREATE TABLE IF NOT EXISTS _cellctl_probe (only INTEGER PRIMARY KEY CHECK (only = 1), at TEXT NOT NULL);
`;

const triggerName = (table: string, op: string, version = BARRIER_VERSION) => `${TRIGGER_PREFIX}${version}_${table}_${op}`;

// The bypass is tested first: the data API's own imports and purges (thousands of rows) then skip
// the barrier lookup; other writers pay one more look at a table that is always empty to them.
function triggerSql(table: DataTable, op: 'ins' | 'upd' | 'del'): string {
  const column = quoteIdent(table.customerColumn);
  const barred = (row: string) =>
    `(EXISTS (SELECT 1 FROM _cellctl_barrier WHERE customer = ${row}.${column}) OR EXISTS (SELECT 1 FROM _cellctl_tombstone WHERE customer = ${row}.${column}))`;
  const when = op === 'ins' ? barred('NEW') : op === 'del' ? barred('OLD') : `(${barred('OLD')} OR ${barred('NEW')})`;
  const event = op === 'ins' ? 'INSERT' : op === 'del' ? 'DELETE' : 'UPDATE';
  return `CREATE TRIGGER ${quoteIdent(triggerName(table.table, op))} BEFORE ${event} ON ${quoteIdent(table.table)}
  WHEN NOT EXISTS (SELECT 1 FROM _cellctl_bypass) AND ${when}
  BEGIN SELECT RAISE(ABORT, '${BARRED_WRITE_MESSAGE}'); END`;
}

/** cellctl's barrier triggers in the database (any version), by name. */
function ourTriggers(db: Database.Database): { name: string; tbl_name: string }[] {
  return db
    .prepare("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' AND substr(name, 1, length(?)) = ?")
    .all(TRIGGER_PREFIX, TRIGGER_PREFIX) as { name: string; tbl_name: string }[];
}

/**
 * Creates the barrier's tables and this version's triggers on every declared table, dropping other
 * versions' and those of tables no longer declared. Idempotent; one transaction.
 */
export function installBarrier(db: Database.Database, tables: readonly DataTable[]): void {
  db.transaction(() => {
    db.exec(STATE_TABLES);
    // Never committed by the API's transactions; cleared in case a hand or a bug ever did.
    db.exec('DELETE FROM _cellctl_bypass');
    const wanted = new Map(tables.flatMap((table) => (['ins', 'upd', 'del'] as const).map((op) => [triggerName(table.table, op), triggerSql(table, op)])));
    const present = new Set<string>();
    for (const trigger of ourTriggers(db)) {
      if (wanted.has(trigger.name)) present.add(trigger.name);
      else db.exec(`DROP TRIGGER ${quoteIdent(trigger.name)}`);
    }
    for (const [name, sql] of wanted) if (!present.has(name)) db.exec(sql);
  }).immediate();
}

/** Drops every barrier trigger (the barrier's rows stay, harmless without triggers). */
export function removeBarrier(db: Database.Database): number {
  const triggers = ourTriggers(db);
  db.transaction(() => {
    for (const trigger of triggers) db.exec(`DROP TRIGGER ${quoteIdent(trigger.name)}`);
  }).immediate();
  return triggers.length;
}

/** Runs `work` inside the caller's transaction with the barrier lifted for this connection only. */
export function bypassing<T>(db: Database.Database, work: () => T): T {
  db.prepare('INSERT INTO _cellctl_bypass (only) VALUES (1)').run();
  try {
    return work();
  } finally {
    db.prepare('DELETE FROM _cellctl_bypass').run();
  }
}

/** Whether the database has the barrier's tables as this version makes them (its data API ran on it at least once). */
export function hasBarrierTables(db: Database.Database): boolean {
  return db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('_cellctl_barrier', '_cellctl_tombstone')").pluck().get() === 2;
}

/** A WHERE fragment (`AND …`) that leaves out barred and tombstoned customers' rows, for an app's background work. */
export function notBarredClause(db: Database.Database, customerColumn: string): string {
  if (!hasBarrierTables(db)) return '';
  const column = quoteIdent(customerColumn);
  return `AND ${column} NOT IN (SELECT customer FROM _cellctl_barrier) AND ${column} NOT IN (SELECT customer FROM _cellctl_tombstone)`;
}
