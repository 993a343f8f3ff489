// The customer tables a cell's data API serves, as plain data (the template's `customerTables`):
// validated, checked against the database, and put in copy order (every parent before its children).
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { failure } from '../shared/errors.js';
import { formatIssues } from '../shared/validation.js';

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a SQL identifier (letters, digits, _)');

export const dataTableSchema = z.strictObject({
  table: identifier,
  customerColumn: identifier,
  parent: identifier.nullable().default(null),
  cellColumn: identifier.nullable().default(null),
});
export type DataTable = z.infer<typeof dataTableSchema>;

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Validates a declaration (e.g. CELL_CUSTOMER_TABLES) and returns it parents first; throws what to fix. */
export function parseDataTables(raw: unknown, where = 'customer tables'): DataTable[] {
  const parsed = z.array(dataTableSchema).min(1, 'declare at least one customer table').safeParse(raw);
  if (!parsed.success) throw failure(`${where}: ${formatIssues(parsed.error)}`, 'E_TABLES');
  const names = new Set(parsed.data.map((table) => table.table));
  if (names.size !== parsed.data.length) throw failure(`${where}: a table is declared twice`, 'E_TABLES');
  const orphan = parsed.data.find((table) => table.parent !== null && !names.has(table.parent));
  if (orphan) throw failure(`${where}: ${orphan.table}.parent "${orphan.parent}" is not a declared customer table`, 'E_TABLES');
  const ordered = parentsFirst(parsed.data);
  if (!ordered) throw failure(`${where}: the parents form a cycle; each chain must end at a table with "parent": null`, 'E_TABLES');
  return ordered;
}

/** The tables with every parent before its children, or null on a cycle (templates' copy order too). */
export function parentsFirst<T extends { table: string; parent: string | null }>(tables: readonly T[]): T[] | null {
  const ordered: T[] = [];
  const placed = new Set<string>();
  let remaining = [...tables];
  while (remaining.length > 0) {
    const ready = remaining.filter((table) => table.parent === null || placed.has(table.parent));
    if (ready.length === 0) return null;
    for (const table of ready) {
      ordered.push(table);
      placed.add(table.table);
    }
    remaining = remaining.filter((table) => !placed.has(table.table));
  }
  return ordered;
}

/** The insertable columns of a table, in schema order (generated columns excluded); empty if it does not exist. */
export function tableColumns(db: Database.Database, table: string): string[] {
  return (db.pragma(`table_info(${quoteIdent(table)})`) as { name: string }[]).map((column) => column.name);
}

/** Refuses a database that lacks a declared table or column, naming each one. */
export function checkTablesExist(db: Database.Database, tables: readonly DataTable[], file: string): void {
  const problems: string[] = [];
  for (const table of tables) {
    const columns = tableColumns(db, table.table);
    if (columns.length === 0) {
      problems.push(`it has no table "${table.table}"`);
      continue;
    }
    for (const column of [table.customerColumn, table.cellColumn]) {
      if (column !== null && !columns.includes(column)) problems.push(`table "${table.table}" has no column "${column}"`);
    }
  }
  if (problems.length > 0)
    throw failure(`${file} does not match the declared customer tables: ${problems.join('; ')}; check the template and the file`, 'E_TABLES');
}
