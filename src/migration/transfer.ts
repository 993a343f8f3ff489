// A set of customers' rows going from one cell to another through the two cells' data APIs
// (src/data/protocol.ts), for the migration engine: bar the source, copy page by page verifying each
// page as it lands, verify the whole, purge a side. It knows nothing of files or hosts.
//
// Every call that changes rows carries the move's fencing number, so a mover that lost its migration
// to another process is refused by the cells themselves (409 stale_owner), wherever it runs.
import type { DataApi, ExportAnswer, ExportCursor } from '../data/protocol.js';

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

/** Which cell of the pair. */
export type Side = 'source' | 'target';

/** Whose rows, for which journaled move, under which fencing number. */
export interface MoveTicket {
  move: number;
  fencing: number;
  customers: string[];
}

/** Called between two pages (the engine keeps the router's fence up there). */
export type Between = () => Promise<void>;
const nothing: Between = async () => {};

export class Transfer {
  constructor(
    readonly source: DataApi,
    readonly target: DataApi,
    readonly ticket: MoveTicket,
  ) {}

  private side(side: Side): DataApi {
    return side === 'source' ? this.source : this.target;
  }

  /** From now on the source refuses every write to these customers' rows (the write barrier). */
  async bar(): Promise<void> {
    await this.source.barrier(this.ticket);
  }

  /** Lifts the source's barrier (the move rolled back). */
  async unbar(): Promise<void> {
    await this.source.unbar(this.ticket);
  }

  /** Lifts the target's barrier: after the switch, the target owns the customers and its app may write them. */
  async handOver(): Promise<void> {
    await this.target.unbar(this.ticket);
  }

  /**
   * Makes the target ready for a copy before the customer is fenced (the target does not serve the
   * customer, so this holds nobody's requests): any earlier copy is purged, so a retry starts clean,
   * and the target is barred until handOver(), so its own app (an order worker) cannot change rows
   * that are still being compared.
   */
  async prepareTarget(between: Between = nothing): Promise<void> {
    await this.purge('target', between);
    await this.target.barrier(this.ticket);
  }

  /**
   * Copies the rows into the prepared target, page by page (parents' tables first): each page is
   * stored in one transaction and read back there, and its count and checksum must equal the
   * source's or the copy stops with CopyMismatch. The next page is read from the source while the
   * target stores the current one.
   */
  async copy(between: Between = nothing): Promise<void> {
    const { customers, move, fencing } = this.ticket;
    let pending: Promise<ExportAnswer> = this.source.export(customers, null);
    for (;;) {
      const { page, next }: ExportAnswer = await pending;
      if (next) pending = this.prefetch(next);
      if (page) {
        const stored = await this.target.import({
          move,
          fencing,
          customers,
          page: { key: page.key, table: page.table, columns: page.columns, rows: page.rows },
        });
        if (stored.rows !== page.rows.length || stored.checksum !== page.checksum) {
          throw new CopyMismatch([
            { table: page.table, sourceRows: page.rows.length, targetRows: stored.rows, sourceChecksum: page.checksum, targetChecksum: stored.checksum },
          ]);
        }
      }
      if (!next) return;
      await between();
    }
  }

  private prefetch(cursor: ExportCursor): Promise<ExportAnswer> {
    const next = this.source.export(this.ticket.customers, cursor);
    next.catch(() => {}); // awaited on the next turn; a failed import before it must not leave it unhandled
    return next;
  }

  /** Row counts and checksums of every declared table, source against target; CopyMismatch unless equal. */
  async verify(): Promise<TableVerification[]> {
    const [source, target] = await Promise.all([this.source.summary(this.ticket.customers), this.target.summary(this.ticket.customers)]);
    const there = new Map(target.tables.map((table) => [table.table, table]));
    const report = source.tables.map((table) => ({
      table: table.table,
      sourceRows: table.rows,
      sourceChecksum: table.checksum,
      targetRows: there.get(table.table)?.rows ?? -1,
      targetChecksum: there.get(table.table)?.checksum ?? -1,
    }));
    const wrong = report.filter((t) => t.sourceRows !== t.targetRows || t.sourceChecksum !== t.targetChecksum);
    if (wrong.length > 0 || target.tables.length !== source.tables.length) throw new CopyMismatch(wrong);
    return report;
  }

  /** Deletes the customers' rows on one side, a page per call; the last call lifts that side's barrier. */
  async purge(side: Side, between: Between = nothing): Promise<number> {
    let removed = 0;
    for (;;) {
      const answer = await this.side(side).purge(this.ticket);
      removed += answer.removed;
      if (answer.done) return removed;
      await between();
    }
  }
}
