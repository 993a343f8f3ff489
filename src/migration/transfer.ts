// A set of customers' rows going from one cell to another through the two cells' data APIs
// (src/data/protocol.ts), for the migration engine: bar the source and copy page by page, verify
// the whole, purge a side. It knows nothing of files or hosts.
//
// Every call that changes rows carries the move's fencing number, so a mover that lost its migration
// to another process is refused by the cells themselves (409 stale_owner), wherever it runs.
import { summaryInPages } from '../data/client.js';
import { type DataApi, type ExportAnswer, type ExportCursor, type ImportAnswer, PAGE_ROWS, type SummaryAnswer } from '../data/protocol.js';
import { type OnlyCopyQuestion, onlyCopyRisk, type RecordedCopy } from './only-copy.js';

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

/** A delete refused because no other cell is known to hold the rows (only-copy.ts); nothing was deleted. */
export class OnlyCopy extends Error {
  constructor(
    readonly cellId: string,
    readonly why: string,
  ) {
    super(`refusing to delete the customer's rows in ${cellId}: ${why}; nothing was deleted`);
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

/**
 * Rows per page of the work a move does beside the customers' own traffic (an online copy, a purge):
 * each page blocks its cell for a few milliseconds at most, so other customers of the cell barely
 * notice a big customer moving. (A fenced copy uses the data API's full page: it is short, and held.)
 */
export const WORK_PAGE_ROWS = 500;

/**
 * A Between that waits, after each page, `ratio` times as long as the page took (since the last
 * call): work beside the customers' traffic leaves each cell that share of its time for them (the
 * throttle of Vitess's copy, by time rather than by lag). 0: no wait.
 */
export function paced(ratio: number): Between {
  let since = performance.now();
  return async () => {
    const spent = performance.now() - since;
    if (ratio > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, spent * ratio)));
    since = performance.now();
  };
}

/** Called between two pages (the engine keeps the router's fence up there). */
export type Between = () => Promise<void>;
const nothing: Between = async () => {};

export class Transfer {
  /** Rows per page of a purge: the data API's full page, or WORK_PAGE_ROWS beside the customers' traffic (an online move). */
  pageRows = PAGE_ROWS;

  constructor(
    readonly source: DataApi,
    readonly target: DataApi,
    readonly ticket: MoveTicket,
  ) {}

  private side(side: Side): DataApi {
    return side === 'source' ? this.source : this.target;
  }

  /** Lifts the source's barrier (the move rolled back). */
  async unbar(): Promise<void> {
    await this.source.unbar(this.ticket);
  }

  /** (online) The source starts recording every change to the customers' rows (data/capture.ts). */
  async startCapture(): Promise<void> {
    await this.source.capture(this.ticket);
  }

  /** Stops the source's capture of the customers (its triggers and change table go with the last one); idempotent. */
  async stopCapture(): Promise<void> {
    await this.source.captureStop(this.ticket);
  }

  /** Lifts the target's barrier: after the switch, the target owns the customers and its app may write them. */
  async handOver(): Promise<void> {
    await this.target.unbar(this.ticket);
  }

  /**
   * Before a rollback or a redo driven by a journal that says "not switched": a target that holds
   * the customers' rows and takes their writes was handed over, so the move did switch and the
   * journal is behind (a restored control plane); its rows may be the only live ones.
   */
  async checkNotHandedOver(): Promise<void> {
    const [tables, { barriers, tombstones }] = await Promise.all([summaryInPages(this.target, this.ticket.customers, false), this.target.barriers()]);
    if (tables.every((table) => table.rows === 0)) return;
    const refused = new Set([...barriers, ...(tombstones ?? [])].map((entry) => entry.customer));
    const open = this.ticket.customers.filter((customer) => !refused.has(customer));
    if (open.length > 0)
      throw new OnlyCopy(
        this.target.cellId,
        `${this.target.cellId} takes the writes of ${open.join(', ')} (it was handed over), so the move went further than this journal says (was the control plane restored from a backup?)`,
      );
  }

  /**
   * Makes the target ready for a copy before the customer is fenced (the target does not serve the
   * customer, so this holds nobody's requests): any earlier copy is purged, so a retry starts clean,
   * and the target is barred until handOver(), so its own app (an order worker) cannot change rows
   * that are still being compared.
   */
  async prepareTarget(between: Between = nothing): Promise<void> {
    await this.purgeHeld('target', 'stale-copy', null, between);
    await this.target.barrier(this.ticket);
  }

  /**
   * Bars the source and copies the customers' rows into the prepared target, page by page (a page
   * spans tables, parents first), each page one transaction on each side; the next page is read from
   * the source while the target stores the current one. The first export bars the source in its own
   * transaction, and the last export and the last import read each side's summary in theirs. The
   * target stays barred until handOver() after the switch: a target that takes the customer's writes
   * is then proof the move switched, whatever a (restored) journal says. `alongsideFirst` runs beside the first export (the engine confirms the routers'
   * fence there) and is awaited before the copy returns, so a small customer is held for one export
   * and one import, besides the fence itself. Returns the verification, or throws CopyMismatch.
   */
  async copy(between: Between = nothing, alongsideFirst: Between = nothing): Promise<TableVerification[]> {
    const { customers, move, fencing } = this.ticket;
    let pending = this.exportFrom(null, { move, fencing });
    const beside = alongsideFirst();
    beside.catch(() => {}); // awaited below; a failed export before it must not leave it unhandled
    for (;;) {
      const { page, next, summary }: ExportAnswer = await pending;
      if (next) pending = this.exportFrom(next);
      const last = next === null;
      let stored: ImportAnswer | null = null;
      if (page) {
        const sent = page.sections.reduce((sum, section) => sum + section.count, 0);
        stored = await this.target.import({ move, fencing, customers, page, summary: last });
        if (stored.rows !== sent) throw new CopyMismatch(page.sections.map((section) => mismatchOf(section.table, sent, stored!.rows)));
      }
      if (last) {
        const sourceTables = summary ?? (await this.source.summary(customers)).tables;
        const targetTables = stored?.summary ?? (await this.target.summary(customers)).tables;
        const verification = compareSummaries(sourceTables, targetTables);
        await beside;
        return verification;
      }
      await between();
    }
  }

  /** An export from `cursor` (summary on the last page); the first one bars the source. Awaited later, so never unhandled. */
  private exportFrom(cursor: ExportCursor | null, barrier?: { move: number; fencing: number }): Promise<ExportAnswer> {
    const next = this.source.export({ customers: this.ticket.customers, cursor, summary: true, ...(barrier ? { barrier } : {}) });
    next.catch(() => {}); // awaited on the next turn; a failed import before it must not leave it unhandled
    return next;
  }

  /** Row counts and checksums of every declared table, source against target; CopyMismatch unless equal. */
  async verify(): Promise<TableVerification[]> {
    const [source, target] = await Promise.all([this.source.summary(this.ticket.customers), this.target.summary(this.ticket.customers)]);
    return compareSummaries(source.tables, target.tables);
  }

  /**
   * purge(), once the other side is known to hold the rows (only-copy.ts): `kind` says which side
   * keeps the customer and how, `recorded` is the copy the journal verified (null when it has none).
   */
  async purgeHeld(side: Side, kind: OnlyCopyQuestion['kind'], recorded: RecordedCopy | null, between: Between = nothing): Promise<number> {
    const dropping = this.side(side);
    const keeping = this.side(side === 'source' ? 'target' : 'source');
    const { customers } = this.ticket;
    // Page by page. A target being prepared (stale-copy) is usually empty: then nothing more is read.
    // Otherwise counts do, except on the side barred since a copy the journal recorded: it must hold
    // exactly that copy, checksums too (barred, so its pages add up).
    const frozen = recorded !== null && kind !== 'stale-copy' ? (kind === 'rollback' ? 'keep' : 'drop') : null;
    let drop: SummaryAnswer['tables'];
    let keep: SummaryAnswer['tables'];
    if (kind === 'stale-copy') {
      drop = await summaryInPages(dropping, customers, false);
      if (drop.every((table) => table.rows === 0)) return this.purge(side, between);
      keep = await summaryInPages(keeping, customers, false);
    } else {
      [drop, keep] = await Promise.all([summaryInPages(dropping, customers, frozen === 'drop'), summaryInPages(keeping, customers, frozen === 'keep')]);
    }
    const risk = onlyCopyRisk({ drop: { cell: dropping.cellId, tables: drop }, keep: { cell: keeping.cellId, tables: keep }, recorded, kind });
    if (risk !== null) throw new OnlyCopy(dropping.cellId, risk);
    // A verified copy (recorded) covers the batch as a whole; without one, the sums could hide one customer's only copy.
    if (recorded === null && customers.length > 1) await this.eachHeld(dropping, keeping);
    return this.purge(side, between);
  }

  /** For a batch: every customer with rows where they are deleted has rows where they are kept (the sums above could hide one). */
  private async eachHeld(dropping: DataApi, keeping: DataApi): Promise<void> {
    for (const customer of this.ticket.customers) {
      const drop = (await dropping.summary([customer], { checksums: false })).tables;
      if (drop.every((table) => table.rows === 0)) continue;
      const keep = (await keeping.summary([customer], { checksums: false })).tables;
      const risk = onlyCopyRisk({
        drop: { cell: dropping.cellId, tables: drop },
        keep: { cell: keeping.cellId, tables: keep },
        recorded: null,
        kind: 'stale-copy',
      });
      if (risk !== null) throw new OnlyCopy(dropping.cellId, `${customer}: ${risk}`);
    }
  }

  /** Deletes the customers' rows on one side, a page per call; the last call turns that side's barrier into a tombstone. */
  async purge(side: Side, between: Between = nothing): Promise<number> {
    let removed = 0;
    for (;;) {
      const answer = await this.side(side).purge({ ...this.ticket, limit: this.pageRows });
      removed += answer.removed;
      if (answer.done) return removed;
      await between();
    }
  }
}

const mismatchOf = (table: string, sourceRows: number, targetRows: number): TableVerification => ({
  table,
  sourceRows,
  targetRows,
  sourceChecksum: -1,
  targetChecksum: -1,
});

/** A verified copy as the journal records it (only-copy.ts). */
export const copyOf = (verification: readonly TableVerification[]): RecordedCopy =>
  Object.fromEntries(verification.map((table) => [table.table, { rows: table.targetRows, checksum: table.targetChecksum }]));

/** Each declared table's count and checksum, source against target; CopyMismatch unless all equal. */
export function compareSummaries(source: SummaryAnswer['tables'], target: SummaryAnswer['tables']): TableVerification[] {
  const there = new Map(target.map((table) => [table.table, table]));
  const report = source.map((table) => ({
    table: table.table,
    sourceRows: table.rows,
    sourceChecksum: table.checksum,
    targetRows: there.get(table.table)?.rows ?? -1,
    targetChecksum: there.get(table.table)?.checksum ?? -1,
  }));
  const wrong = report.filter((t) => t.sourceRows !== t.targetRows || t.sourceChecksum !== t.targetChecksum);
  if (wrong.length > 0 || target.length !== source.length) throw new CopyMismatch(wrong);
  return report;
}
