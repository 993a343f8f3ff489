// An online copy (DESIGN.md "Online moves"): the customers' rows go to the target while they keep
// working, and the fence holds them only for the last changes. The source captures changes from
// before the first page is read (capture.ts), so a row is either copied as it is now, or changed
// after and applied again from the change table; the rounds of catch-up shrink what is left until the
// cutover, under the fence, bars the source and applies the rest.
//
// Nothing here scans a customer's whole data: each page of the copy is checked as it is stored (its
// rows read back and hashed on the target against the source's hash of the same page), each page of
// changes is checked the same way, and the totals are kept up to date from the keys each page
// touched (before and after). The totals are the verified copy the journal records; the source's
// purge later compares the source's own summary to them (only-copy.ts).
import { pausePoint } from '../shared/test-hooks.js';
import {
  type ApplyAnswer,
  type ChangesAnswer,
  type DataApi,
  type ExportAnswer,
  type ExportCursor,
  type ImportAnswer,
  type RowsSummary,
  sumChecksums,
} from '../data/protocol.js';
import { CopyMismatch, type MoveTicket, type TableVerification, WORK_PAGE_ROWS } from './transfer.js';

export type OnlinePhase = 'copying' | 'catching-up' | 'cutting-over';

/** Where an online copy stands, for the progress line, `migrate show` and the dashboard. */
export interface OnlineProgress {
  phase: OnlinePhase;
  /** Rows copied so far, of `totalRows` counted when the copy began. */
  rows: number;
  totalRows: number;
  /** Changes captured and not applied yet. */
  lag: number;
  /** Estimated time left in this phase (null until there is a rate to go by). */
  etaMs: number | null;
}

/** How the catch-up ends: under `maxLag` changes within `boundMs`, else as `cutover` says. */
export interface CatchUpBounds {
  maxLag: number;
  boundMs: number;
  cutover: 'abort' | 'force';
}

/** The customer writes faster than the catch-up applies: the move stops cleanly (with --cutover abort). */
export class CatchUpTooSlow extends Error {
  constructor(
    readonly lag: number,
    readonly bounds: CatchUpBounds,
    readonly appliedPerSecond: number,
  ) {
    super(
      `after ${Math.round(bounds.boundMs / 1000)} s of catching up, ${lag} change(s) were still waiting (more than --max-lag ${bounds.maxLag}; ` +
        `applied ${Math.round(appliedPerSecond)}/s): the customer writes faster than the move applies its changes. ` +
        `Move it at a quieter time, raise --max-lag (a longer hold at the cutover), or pass --cutover force to cut over anyway within the fence's hold`,
    );
  }
}

export class OnlineCopy {
  private readonly totals = new Map<string, RowsSummary>();
  /** Rows the copy skipped, by table: their key columns, and their keys (as JSON) no change has settled yet. */
  private readonly unsettled = new Map<string, { key: string[]; keys: Set<string> }>();
  /** The last change applied. */
  private cursor = 0;
  private copied = 0;

  constructor(
    private readonly source: DataApi,
    private readonly target: DataApi,
    private readonly ticket: MoveTicket,
    tables: readonly string[],
    private readonly totalRows: number,
    private readonly report: (progress: OnlineProgress) => void = () => {},
    /** Called after each page of the copy (paced(): the cells keep time for their other customers). */
    private readonly between: () => Promise<void> = async () => {},
  ) {
    for (const table of tables) this.totals.set(table, { rows: 0, checksum: 0 });
  }

  /** Copies the rows page by page, unfenced: each page is its own read on the source and its own transaction on the target, checked as stored. */
  async copy(): Promise<void> {
    const { move, fencing, customers } = this.ticket;
    const started = performance.now();
    const read = (cursor: ExportCursor | null) => {
      const next = this.source.export({ customers, cursor, checksums: true, limit: WORK_PAGE_ROWS });
      next.catch(() => {}); // awaited on the next turn
      return next;
    };
    let pending: Promise<ExportAnswer> = read(null);
    for (;;) {
      const { page, next } = await pending;
      if (next) pending = read(next);
      if (page) {
        // A replayed page (stored by an earlier try of this move) has no read-back: checked as a mismatch.
        const stored = await this.target.import({ move, fencing, customers, page, checksums: true, unordered: true });
        this.checkPage(page.sections, stored.tables);
        if (this.copied === 0) await pausePoint('copying');
        this.copied += page.sections.reduce((sum, section) => sum + section.count, 0);
        const rate = this.copied / Math.max(1, performance.now() - started);
        this.report({
          phase: 'copying',
          rows: this.copied,
          totalRows: this.totalRows,
          lag: 0,
          etaMs: Math.round(Math.max(0, this.totalRows - this.copied) / rate),
        });
      }
      if (next === null) return;
      await this.between();
    }
  }

  /**
   * Each table of a stored page has the source's rows and checksum, less the rows it skipped (their key
   * or a unique value was held already: written after the capture began, so a change of theirs must
   * follow, and settle them; cutOver checks that one did). The stored rows join the totals.
   */
  private checkPage(sent: readonly { table: string; count: number; checksum?: number }[], stored: ImportAnswer['tables']): void {
    const wrong: TableVerification[] = [];
    for (const section of sent) {
      const there = stored.find((table) => table.table === section.table);
      const skipped = there?.skipped ?? { count: 0, checksum: 0, key: [], keys: '[]' };
      const rows = section.count - skipped.count;
      const checksum = sumChecksums(section.checksum ?? -1, -skipped.checksum);
      if (!there || there.rows !== rows || there.checksum !== checksum) {
        wrong.push({ table: section.table, sourceRows: rows, targetRows: there?.rows ?? -1, sourceChecksum: checksum, targetChecksum: there?.checksum ?? -1 });
        continue;
      }
      if (skipped.count > 0) this.awaitChanges(section.table, skipped.key, JSON.parse(skipped.keys) as unknown[][]);
      const total = this.totals.get(section.table) ?? { rows: 0, checksum: 0 };
      this.totals.set(section.table, { rows: total.rows + rows, checksum: sumChecksums(total.checksum, checksum) });
    }
    if (wrong.length > 0) throw new CopyMismatch(wrong);
  }

  private awaitChanges(table: string, key: string[], keys: unknown[][]): void {
    const entry = this.unsettled.get(table) ?? { key, keys: new Set<string>() };
    for (const one of keys) entry.keys.add(JSON.stringify(one));
    this.unsettled.set(table, entry);
  }

  /** The keys a page of changes applied settle the rows the copy skipped with those keys. */
  private settle(changes: ChangesAnswer): void {
    if (this.unsettled.size === 0) return;
    for (const section of changes.sections) {
      const entry = this.unsettled.get(section.table);
      if (!entry) continue;
      const at = entry.key.map((column) => section.columns.indexOf(column));
      for (const row of JSON.parse(section.rows) as unknown[][]) entry.keys.delete(JSON.stringify(at.map((index) => row[index])));
    }
    for (const deleted of changes.deletes) {
      const entry = this.unsettled.get(deleted.table);
      if (entry) for (const key of JSON.parse(deleted.keys) as unknown[][]) entry.keys.delete(JSON.stringify(key));
    }
  }

  /** Throws when a row the copy skipped was never changed again on the source: the target held its key or unique value for another reason. */
  private checkSettled(): void {
    const left = [...this.unsettled].filter(([, entry]) => entry.keys.size > 0);
    if (left.length === 0) return;
    const named = left.map(
      ([table, entry]) => `${table} ${[...entry.keys].slice(0, 3).join(', ')}${entry.keys.size > 3 ? ` and ${entry.keys.size - 3} more` : ''}`,
    );
    throw new Error(
      `${this.target.cellId} already held the key or a unique value of rows the copy sent, and the source never changed them afterwards (${named.join('; ')}): another customer's rows there may collide with this customer's; nothing was switched`,
    );
  }

  /**
   * Applies captured changes in rounds, unfenced, until at most `maxLag` are left; past `boundMs`,
   * throws CatchUpTooSlow (cutover `abort`) or returns with what is left (`force`). Returns the lag.
   */
  async catchUp(bounds: CatchUpBounds): Promise<number> {
    const started = performance.now();
    let applied = 0;
    for (;;) {
      const changes = await this.source.changes({ move: this.ticket.move, customers: this.ticket.customers, after: this.cursor, limit: WORK_PAGE_ROWS });
      applied += await this.apply(changes);
      const elapsed = performance.now() - started;
      const rate = applied / Math.max(1, elapsed);
      this.report({
        phase: 'catching-up',
        rows: this.copied,
        totalRows: this.totalRows,
        lag: changes.left,
        etaMs: rate > 0 ? Math.round(changes.left / rate) : null,
      });
      if (changes.left <= bounds.maxLag) return changes.left;
      if (elapsed >= bounds.boundMs) {
        if (bounds.cutover === 'force') return changes.left;
        throw new CatchUpTooSlow(changes.left, bounds, rate * 1000);
      }
    }
  }

  /**
   * Under the fence: bars the source and applies every change left (the first read bars the source in
   * its own transaction, so none can follow). `alongsideFirst` runs beside that first read (the
   * engine confirms the routers' fence there) and is awaited before this returns; `between` runs
   * between two reads (the engine keeps the fence up there).
   */
  async cutOver(alongsideFirst: () => Promise<void>, between: () => Promise<void>): Promise<TableVerification[]> {
    const { move, fencing, customers } = this.ticket;
    const first = this.source.changes({ move, customers, after: this.cursor, barrier: { move, fencing } });
    const beside = alongsideFirst();
    beside.catch(() => {}); // awaited below
    let changes = await first;
    for (;;) {
      await this.apply(changes);
      if (changes.left === 0) break;
      await between();
      changes = await this.source.changes({ move, customers, after: this.cursor });
    }
    await beside;
    this.checkSettled();
    return this.verification();
  }

  /** Applies one read of changes to the target and checks it; returns how many keys it touched. */
  private async apply(changes: ChangesAnswer): Promise<number> {
    this.cursor = changes.last;
    if (changes.sections.length === 0 && changes.deletes.length === 0) return 0;
    const { move, fencing, customers } = this.ticket;
    const answer = await this.target.apply({ move, fencing, customers, sections: changes.sections, deletes: changes.deletes });
    this.checkApplied(changes, answer);
    this.settle(changes);
    return changes.sections.reduce((sum, section) => sum + section.count, 0) + changes.deletes.length;
  }

  /** After a page of changes the target's rows of those keys are the source's: each table's rows and checksum; the totals move by after − before. */
  private checkApplied(changes: ChangesAnswer, answer: ApplyAnswer): void {
    const wrong: TableVerification[] = [];
    for (const after of answer.after) {
      const sent = changes.sections.find((section) => section.table === after.table);
      const rows = sent?.count ?? 0;
      const checksum = sent?.checksum ?? 0;
      if (after.rows !== rows || after.checksum !== checksum) {
        wrong.push({ table: after.table, sourceRows: rows, targetRows: after.rows, sourceChecksum: checksum, targetChecksum: after.checksum });
        continue;
      }
      const before = answer.before.find((table) => table.table === after.table) ?? { rows: 0, checksum: 0 };
      const total = this.totals.get(after.table) ?? { rows: 0, checksum: 0 };
      this.totals.set(after.table, { rows: total.rows + after.rows - before.rows, checksum: sumChecksums(total.checksum, after.checksum, -before.checksum) });
    }
    if (wrong.length > 0) throw new CopyMismatch(wrong);
  }

  /** The copy as verified: the same on both sides by construction, each page and change checked. */
  verification(): TableVerification[] {
    return [...this.totals].map(([table, total]) => ({
      table,
      sourceRows: total.rows,
      targetRows: total.rows,
      sourceChecksum: total.checksum,
      targetChecksum: total.checksum,
    }));
  }
}
