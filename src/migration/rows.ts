// A customer's rows in cell databases, for the migration engine: copy them from one cell's data.db to
// another's, verifying each piece as it lands (row counts and an order-independent checksum per
// table), or delete them. Uses only the template's declaration of customer-scoped tables.
//
// A table may declare a `cellColumn` where the app records its own cell: the copy writes the
// target's id there, and verification hashes rows with that column left out.
//
// Other customers of both cells keep being served during a move: the source is only read, from one
// snapshot (a WAL reader takes no lock that blocks its cell's writers), and every write — into the
// target, or a purge — is done in chunks of at most CHUNK_ROWS rows, each its own short transaction,
// so a cell waits at most one chunk for its own write lock.
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

/** Which of the pair's databases. */
export type Side = 'source' | 'target';

/** Rows written per transaction. Small enough that a cell never waits long for its write lock. */
export const CHUNK_ROWS = 2_000;

/** Runs one chunk of work; the engine passes one that holds the migration's ownership meanwhile. */
export type ChunkRunner = <T>(work: () => T) => T;
const runDirectly: ChunkRunner = (work) => work();

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

interface TableColumns {
  names: string[];
  /** Where the cell column is in `names`, or -1. */
  cellIndex: number;
  /** Every column, for INSERT and SELECT. */
  all: string;
  /** What the checksum hashes: every column but the cell column. */
  hashed: string;
}

/** The order-independent checksum of rows: the sum of each row's hash (the same in SQL and here). */
const rowHash = (values: unknown[]): number => hash32(JSON.stringify(values));

/**
 * The target as its own connection's main database with the source attached as "source" (for
 * counts and purges), and a second connection to the source that holds one read snapshot for the
 * whole of a copy, so every chunk copies the source as it was at one moment — whatever its cell
 * (and its order worker) writes meanwhile.
 */
export class CellPair {
  private readonly db: Database.Database;
  private readonly snapshot: Database.Database;
  private readonly tables: CustomerTable[];
  private readonly columns = new Map<string, TableColumns>();

  /** `targetCellId` is written into cell columns of the copied rows. */
  constructor(
    sourceFile: string,
    targetFile: string,
    tables: readonly CustomerTable[],
    private readonly targetCellId = '',
  ) {
    this.db = new Database(targetFile, { fileMustExist: true });
    configureSqlite(this.db);
    this.db.prepare('ATTACH DATABASE ? AS source').run(sourceFile);
    this.db.function('cellctl_row_hash', { varargs: true, deterministic: true }, (...values: unknown[]) => rowHash(values));
    this.snapshot = new Database(sourceFile, { fileMustExist: true });
    this.snapshot.pragma('busy_timeout = 5000');
    this.tables = copyOrder(tables);
    for (const table of this.tables) {
      const names = (this.db.pragma(`source.table_info(${quote(table.table)})`) as { name: string }[]).map((column) => column.name);
      const cellIndex = table.cellColumn === null ? -1 : names.indexOf(table.cellColumn);
      this.columns.set(table.table, {
        names,
        cellIndex,
        all: names.map(quote).join(', '),
        hashed: names
          .filter((_, index) => index !== cellIndex)
          .map(quote)
          .join(', '),
      });
    }
  }

  private schema(side: Side): string {
    return side === 'source' ? 'source' : 'main';
  }

  private where(table: CustomerTable): string {
    return `${quote(table.customerColumn)} IN (SELECT value FROM json_each(?))`;
  }

  /** Row counts per table for these customers on one side (for dry runs and audits). */
  counts(side: Side, customerIds: readonly string[]): Record<string, number> {
    const ids = JSON.stringify(customerIds);
    return Object.fromEntries(
      this.tables.map((table) => [
        table.table,
        (this.db.prepare(`SELECT COUNT(*) AS n FROM ${this.schema(side)}.${quote(table.table)} WHERE ${this.where(table)}`).get(ids) as { n: number }).n,
      ]),
    );
  }

  /** Count and checksum of target rows by rowid, with the cell column left out. */
  private targetSummary(table: CustomerTable, rowids: string): { rows: number; checksum: number } {
    const row = this.db
      .prepare(
        `SELECT COUNT(*) AS n, COALESCE(SUM(cellctl_row_hash(${this.columns.get(table.table)!.hashed})), 0) AS s FROM main.${quote(table.table)} WHERE rowid IN (SELECT value FROM json_each(?))`,
      )
      .get(rowids) as { n: number; s: number };
    return { rows: row.n, checksum: row.s };
  }

  /**
   * Copies the customers' rows into the target, parents first, one chunk per step: each step writes
   * up to CHUNK_ROWS rows of one table in one transaction on the target and verifies exactly those
   * rows (read back, against the source rows they came from) — a mismatch throws CopyMismatch and
   * leaves that chunk out. The source is read from one snapshot taken when the copy starts. Any
   * earlier copy is removed first, so a retry starts clean. Returns the per-table totals.
   */
  *copySteps(customerIds: readonly string[]): Generator<void, TableVerification[]> {
    yield* this.deleteSteps('target', customerIds);
    const ids = JSON.stringify(customerIds);
    this.snapshot.exec('BEGIN');
    try {
      this.snapshot.prepare('SELECT 1 FROM sqlite_schema LIMIT 1').get(); // the snapshot starts here
      const report: TableVerification[] = [];
      for (const table of this.tables) report.push(yield* this.copyTable(table, ids));
      return report;
    } finally {
      this.snapshot.exec('ROLLBACK');
    }
  }

  private *copyTable(table: CustomerTable, ids: string): Generator<void, TableVerification> {
    const total: TableVerification = { table: table.table, sourceRows: 0, targetRows: 0, sourceChecksum: 0, targetChecksum: 0 };
    const columns = this.columns.get(table.table)!;
    const read = this.snapshot
      .prepare(`SELECT rowid, ${columns.all} FROM ${quote(table.table)} WHERE ${this.where(table)} AND rowid > ? ORDER BY rowid LIMIT ${CHUNK_ROWS}`)
      .raw();
    // A write first: the chunk's transaction takes the target's write lock before it reads anything
    // there, so a cell's own commit cannot make its snapshot stale (SQLITE_BUSY_SNAPSHOT).
    const lockTarget = this.db.prepare(`DELETE FROM main.${quote(table.table)} WHERE 0`);
    const insert = this.db
      .prepare(`INSERT INTO main.${quote(table.table)} (${columns.all}) VALUES (${columns.names.map(() => '?').join(', ')}) RETURNING rowid`)
      .pluck();
    let after = -Infinity;
    for (;;) {
      const rows = read.all(ids, after) as unknown[][];
      if (rows.length === 0) break;
      after = rows.at(-1)![0] as number;
      const piece = this.db.transaction(() => {
        lockTarget.run();
        const targetRowids: unknown[] = [];
        let sourceChecksum = 0;
        for (const row of rows) {
          const values = row.slice(1);
          sourceChecksum += rowHash(values.filter((_, index) => index !== columns.cellIndex));
          if (columns.cellIndex >= 0) values[columns.cellIndex] = this.targetCellId;
          targetRowids.push(insert.get(...values));
        }
        const target = this.targetSummary(table, JSON.stringify(targetRowids));
        const checked = { table: table.table, sourceRows: rows.length, targetRows: target.rows, sourceChecksum, targetChecksum: target.checksum };
        if (checked.sourceRows !== checked.targetRows || checked.sourceChecksum !== checked.targetChecksum) throw new CopyMismatch([checked]);
        return checked;
      })();
      total.sourceRows += piece.sourceRows;
      total.targetRows += piece.targetRows;
      total.sourceChecksum = (total.sourceChecksum + piece.sourceChecksum) % 2 ** 52;
      total.targetChecksum = (total.targetChecksum + piece.targetChecksum) % 2 ** 52;
      if (rows.length < CHUNK_ROWS) break;
      yield;
    }
    return total;
  }

  /** Deletes the customers' rows on one side, children first, one chunk (one transaction) per step. */
  *deleteSteps(side: Side, customerIds: readonly string[]): Generator<void, number> {
    const ids = JSON.stringify(customerIds);
    let removed = 0;
    for (const table of [...this.tables].reverse()) {
      const name = `${this.schema(side)}.${quote(table.table)}`;
      const remove = this.db.prepare(`DELETE FROM ${name} WHERE rowid IN (SELECT rowid FROM ${name} WHERE ${this.where(table)} LIMIT ${CHUNK_ROWS})`);
      for (;;) {
        const changes = remove.run(ids).changes;
        removed += changes;
        if (changes < CHUNK_ROWS) break;
        yield;
      }
    }
    return removed;
  }

  /** Copies and verifies at once (each chunk through `runChunk`); on a failure the partial copy is removed. */
  copyAndVerify(customerIds: readonly string[], runChunk: ChunkRunner = runDirectly): TableVerification[] {
    try {
      return drive(this.copySteps(customerIds), runChunk);
    } catch (error) {
      this.purge('target', customerIds, runChunk);
      throw error;
    }
  }

  /** Deletes the customers' rows on one side (each chunk through `runChunk`). */
  purge(side: Side, customerIds: readonly string[], runChunk: ChunkRunner = runDirectly): number {
    return drive(this.deleteSteps(side, customerIds), runChunk);
  }

  close(): void {
    if (this.db.open) this.db.close();
    if (this.snapshot.open) this.snapshot.close();
  }
}

/** Runs a step generator to its end, each step through `runChunk`. */
export function drive<T>(steps: Generator<void, T>, runChunk: ChunkRunner): T {
  for (;;) {
    const next = runChunk(() => steps.next());
    if (next.done) return next.value;
  }
}

/** How many rows one customer has in each customer-scoped table of a cell's data.db (read-only). */
export function customerRowCounts(file: string, tables: readonly CustomerTable[], customerId: string): Record<string, number> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const count = (table: CustomerTable) =>
      (db.prepare(`SELECT COUNT(*) AS n FROM ${quote(table.table)} WHERE ${quote(table.customerColumn)} = ?`).get(customerId) as { n: number }).n;
    return Object.fromEntries(tables.map((table) => [table.table, count(table)]));
  } finally {
    db.close();
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
