// The per-table statements of online moves (capture.ts records which keys changed): read a row by its
// primary key as the export renders it, hash it, insert-or-replace it, delete it. Rows are found by
// key, never by rowid, because a row's rowid differs between two cells; the key does not.
import type Database from 'better-sqlite3';
import { decodeWire, exportRowSql, rowHashSql } from './rows.js';
import { type DataTable, quoteIdent } from './tables.js';

export interface KeyedAccess {
  decl: DataTable;
  /** The primary key's columns, in key order. */
  key: string[];
  /** By key: the row (JSON, as an export renders it), its customer and its hash. */
  lookup: Database.Statement;
  /** By key: the customer and the hash of the row (none when there is no row). */
  hashOf: Database.Statement;
  /** By key and the customers (JSON array): deletes the row. */
  remove: Database.Statement;
  /** Insert-or-replace statements by column list, made on first use. */
  upserts: Map<string, Database.Statement>;
}

/** `a = ? AND b = ?` over the key. */
const byKey = (key: readonly string[]): string => key.map((column) => `${quoteIdent(column)} = ?`).join(' AND ');

export function prepareKeyed(db: Database.Database, decl: DataTable, columns: readonly string[], hashed: readonly string[], key: string[]): KeyedAccess {
  const table = quoteIdent(decl.table);
  const customer = quoteIdent(decl.customerColumn);
  const prepare = (sql: string) => db.prepare(sql).safeIntegers(true);
  return {
    decl,
    key,
    lookup: prepare(`SELECT ${exportRowSql(columns)} AS row, ${customer} AS customer, ${rowHashSql(hashed)} AS hash FROM ${table} WHERE ${byKey(key)}`),
    hashOf: prepare(`SELECT ${customer} AS customer, ${rowHashSql(hashed)} AS hash FROM ${table} WHERE ${byKey(key)}`),
    remove: prepare(`DELETE FROM ${table} WHERE ${byKey(key)} AND ${customer} IN (SELECT value FROM json_each(?))`),
    upserts: new Map(),
  };
}

/** The statement that inserts a row with these columns, or replaces the row with its key. */
export function upsertFor(db: Database.Database, access: KeyedAccess, columns: readonly string[]): Database.Statement {
  const name = columns.join(',');
  let statement = access.upserts.get(name);
  if (!statement) {
    const others = columns.filter((column) => !access.key.includes(column));
    const onConflict =
      others.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${others.map((column) => `${quoteIdent(column)} = excluded.${quoteIdent(column)}`).join(', ')}`;
    statement = db
      .prepare(
        `INSERT INTO ${quoteIdent(access.decl.table)} (${columns.map(quoteIdent).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})
         ON CONFLICT (${access.key.map(quoteIdent).join(', ')}) ${onConflict}`,
      )
      .safeIntegers(true);
    access.upserts.set(name, statement);
  }
  return statement;
}

type Bound = ReturnType<typeof decodeWire>;

/** A key as the change table keeps it (a JSON array of wire values), decoded for binding; throws saying why it is not one. */
export function decodeKey(text: string, length: number): Bound[] {
  const values: unknown = JSON.parse(text);
  if (!Array.isArray(values) || values.length !== length) throw new Error(`${text} is not a key of ${length} value(s)`);
  return values.map((value) => decodeWire(value));
}

/** One text per key value set, whatever wire form it came in: what tells two changes of one row apart from two rows. */
export function keyText(values: readonly Bound[]): string {
  return JSON.stringify(
    values.map((value) => {
      if (typeof value === 'bigint') return `i${value}`;
      if (typeof value === 'number') return `r${value}`;
      if (Buffer.isBuffer(value)) return `x${value.toString('hex')}`;
      return value;
    }),
  );
}
