// Before any destructive operation deletes a customer's rows from a cell (a rollback, an abort, a
// purge of the source or of a stray copy, a target's preparation), another cell must be known to hold
// them. A pure judgement of the two cells' summaries and what the journal recorded at the copy.
import type { SummaryAnswer } from '../data/protocol.js';

type Tables = SummaryAnswer['tables'];

/** What the journal recorded of a verified copy, per table: rows and checksum (the same on both sides then). */
export type RecordedCopy = Record<string, { rows: number; checksum: number }>;

export interface OnlyCopyQuestion {
  /** The cell whose rows would be deleted, and what it holds now. */
  drop: { cell: string; tables: Tables };
  /** The cell that keeps the customer, and what it holds now. */
  keep: { cell: string; tables: Tables };
  /**
   * `frozen`: the cell that was barred since the copy must still hold exactly the recorded copy
   * (`keep` for a rollback, `drop` for a purge after the switch). Without a record, only "the keeper
   * is not empty" (after the switch) or "the keeper holds at least as many rows per table" (a rollback) is checked.
   */
  recorded: RecordedCopy | null;
  kind: 'rollback' | 'after-switch' | 'stale-copy';
}

const total = (tables: Tables): number => tables.reduce((sum, table) => sum + table.rows, 0);

function differsFrom(tables: Tables, recorded: RecordedCopy): string | null {
  for (const table of tables) {
    const was = recorded[table.table];
    if (was === undefined) continue;
    if (was.rows !== table.rows || was.checksum !== table.checksum)
      return `${table.table} has ${table.rows} row(s) (checksum ${table.checksum}) where the journal recorded ${was.rows} (checksum ${was.checksum}) at the copy`;
  }
  return null;
}

/** Why deleting the rows in `drop` could lose the only copy of them; null when `keep` is known to hold them. */
export function onlyCopyRisk(question: OnlyCopyQuestion): string | null {
  const { drop, keep, recorded, kind } = question;
  if (total(drop.tables) === 0) return null;
  if (total(keep.tables) === 0) return `${keep.cell}, which keeps the customer, holds none of its rows while ${drop.cell} holds ${total(drop.tables)}`;
  if (recorded !== null && kind !== 'stale-copy') {
    // The barred side cannot have changed since the copy: if it did, the journal is not this cells' history.
    const frozen = kind === 'rollback' ? keep : drop;
    const differs = differsFrom(frozen.tables, recorded);
    return differs === null ? null : `in ${frozen.cell}, ${differs}`;
  }
  if (kind === 'rollback') {
    const kept = new Map(keep.tables.map((table) => [table.table, table.rows]));
    const short = drop.tables.find((table) => table.rows > (kept.get(table.table) ?? 0));
    if (short)
      return `${keep.cell} holds ${kept.get(short.table) ?? 0} row(s) of ${short.table}, fewer than the ${short.rows} a partial copy in ${drop.cell} holds`;
  }
  return null;
}

/** The copy a migration's journal recorded (steps 'copied' and 'verified'), or null before it. */
export function recordedCopy(detail: Record<string, unknown>): RecordedCopy | null {
  const rows = detail.rows;
  const checksums = detail.checksums;
  if (typeof rows !== 'object' || rows === null || typeof checksums !== 'object' || checksums === null) return null;
  const copy: RecordedCopy = {};
  for (const [table, n] of Object.entries(rows)) {
    const checksum = (checksums as Record<string, unknown>)[table];
    if (typeof n === 'number' && typeof checksum === 'number') copy[table] = { rows: n, checksum };
  }
  return copy;
}
