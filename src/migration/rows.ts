// A customer's rows in cell databases, for the migration engine: copy them from one cell's data.db to
// another's and verify the copy (row counts and an order-independent checksum per table) in the
// same write transaction on the target, or delete them. Uses only the template's declaration of
// customer-scoped tables.
import Database from 'better-sqlite3';
import { configureSqlite } from '../shared/sqlite.js';
import { hash32 } from '../shared/hash.js';
import { copyOrder, type CustomerTable } from '../templates/template.js';

export interface TableVerification {
  table: string;
  sourceRows: number;
  targetRows: number;
  sourceChecksum: number;
  targetChecksum: number;
}

export class CopyMismatch extends Error {
  constructor(readonly tables: TableVerification[]) {
    super(`verification failed: ${tables.map((t) => `${t.table} ${t.sourceRows}→${t.targetRows} rows`).join(', ')}`);
  }
}

type Schema = 'main' | 'target';

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** A connection to the source data.db with the target attached as "target". */
export class CellPair {
  private readonly db: Database.Database;
  private readonly tables: CustomerTable[];
  private readonly columns = new Map<string, string>();

  constructor(sourceFile: string, targetFile: string, tables: readonly CustomerTable[]) {
    this.db = new Database(sourceFile, { fileMustExist: true });
    configureSqlite(this.db);
    this.db.prepare('ATTACH DATABASE ? AS target').run(targetFile);
    this.db.function('cellctl_row_hash', { varargs: true, deterministic: true }, (...values: unknown[]) => hash32(JSON.stringify(values)));
    this.tables = copyOrder(tables);
    for (const table of this.tables) {
      const names = (this.db.pragma(`main.table_info(${quote(table.table)})`) as { name: string }[]).map((column) => quote(column.name));
      this.columns.set(table.table, names.join(', '));
    }
  }

  private where(table: CustomerTable): string {
    return `${quote(table.customerColumn)} IN (SELECT value FROM json_each(?))`;
  }

  /** Row counts per table for these customers on one side (for dry runs and audits). */
  counts(schema: Schema, customerIds: readonly string[]): Record<string, number> {
    const ids = JSON.stringify(customerIds);
    return Object.fromEntries(
      this.tables.map((table) => [
        table.table,
        (this.db.prepare(`SELECT COUNT(*) AS n FROM ${schema}.${quote(table.table)} WHERE ${this.where(table)}`).get(ids) as { n: number }).n,
      ]),
    );
  }

  private summary(schema: Schema, table: CustomerTable, ids: string): { rows: number; checksum: number } {
    const row = this.db
      .prepare(`SELECT COUNT(*) AS n, COALESCE(SUM(cellctl_row_hash(${this.columns.get(table.table)})), 0) AS s FROM ${schema}.${quote(table.table)} WHERE ${this.where(table)}`)
      .get(ids) as { n: number; s: number };
    return { rows: row.n, checksum: row.s };
  }

  /**
   * Replaces the customers' rows in the target with the source's (parents first), then checks
   * counts and checksums, all in one transaction: a mismatch rolls the copy back. Idempotent.
   */
  copyAndVerify(customerIds: readonly string[]): TableVerification[] {
    const ids = JSON.stringify(customerIds);
    return this.db.transaction(() => {
      this.deleteRows('target', ids);
      for (const table of this.tables) {
        const columns = this.columns.get(table.table)!;
        this.db.prepare(`INSERT INTO target.${quote(table.table)} (${columns}) SELECT ${columns} FROM main.${quote(table.table)} WHERE ${this.where(table)}`).run(ids);
      }
      const report = this.tables.map((table) => {
        const source = this.summary('main', table, ids);
        const target = this.summary('target', table, ids);
        return { table: table.table, sourceRows: source.rows, targetRows: target.rows, sourceChecksum: source.checksum, targetChecksum: target.checksum };
      });
      const bad = report.filter((t) => t.sourceRows !== t.targetRows || t.sourceChecksum !== t.targetChecksum);
      if (bad.length > 0) throw new CopyMismatch(bad);
      return report;
    }).immediate();
  }

  /** Deletes the customers' rows on one side (children first), in one transaction. */
  purge(schema: Schema, customerIds: readonly string[]): number {
    const ids = JSON.stringify(customerIds);
    return this.db.transaction(() => this.deleteRows(schema, ids)).immediate();
  }

  private deleteRows(schema: Schema, ids: string): number {
    let removed = 0;
    for (const table of [...this.tables].reverse()) {
      removed += this.db.prepare(`DELETE FROM ${schema}.${quote(table.table)} WHERE ${this.where(table)}`).run(ids).changes;
    }
    return removed;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Every customer id that has at least one row in a cell's data.db (read-only). */
export function customerIdsIn(file: string, tables: readonly CustomerTable[]): Set<string> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const union = tables.map((table) => `SELECT ${quote(table.customerColumn)} AS id FROM ${quote(table.table)}`).join(' UNION ');
    return new Set((db.prepare(union).all() as { id: string }[]).map((row) => row.id));
  } finally {
    db.close();
  }
}
