// How a move's rows reach the target: a fenced copy (the customer is held for the whole copy: small
// customers, or tables an online move cannot use), or an online copy (held only for the cutover).
// The engine runs either the same way: what comes before the fence, what runs under it, and what
// either leaves on the cells to clean up after a rollback or the release.
import { summaryInPages } from '../data/client.js';
import type { DataApi } from '../data/protocol.js';
import type { MigrationStep } from '../control/plane.js';
import { pausePoint } from '../shared/test-hooks.js';
import { type CatchUpBounds, OnlineCopy, type OnlineProgress } from './online-copy.js';
import type { Between, TableVerification, Transfer } from './transfer.js';

/** What a mode may ask of the move that runs it. */
export interface ModeContext {
  transfer: Transfer;
  /** Journals a completed step. */
  record(step: MigrationStep, detail?: Record<string, unknown>): Promise<void>;
  /** Times a step (StepClock). */
  lap(step: string): void;
  /** Reports progress (the CLI's line, the journal for `migrate show` and the dashboard). */
  progress(progress: OnlineProgress): void;
}

export interface CopyMode {
  readonly kind: 'online' | 'fenced';
  /** Why a move copies fenced (null for an online one). */
  readonly why: string | null;
  /** Before the fence, holding nobody: an online copy copies and catches up here. */
  beforeFence(context: ModeContext): Promise<void>;
  /** Under the fence: bars the source and returns the verified copy. */
  underFence(context: ModeContext, keepUp: Between, confirm: Between): Promise<TableVerification[]>;
  /** After a rollback, or once the customers are released: what this mode left on the cells goes. Idempotent. */
  cleanUp(context: ModeContext): Promise<void>;
}

/**
 * Today's copy: the source is barred at the first export, under the fence, and the whole is verified
 * then. `captured`: the move was journaled online before (a resumed one), so a capture may be left on
 * the source; it goes when the move rolls back or is released.
 */
export const fencedCopy = (why: string, captured: boolean): CopyMode => ({
  kind: 'fenced',
  why,
  beforeFence: async () => {},
  underFence: (context, keepUp, confirm) => context.transfer.copy(keepUp, confirm),
  cleanUp: async (context) => {
    if (captured) await stopCapture(context.transfer);
  },
});

/** Stops the source's capture of the move's customers (its triggers and change table go with the last one); idempotent. */
export const stopCapture = async (transfer: Transfer): Promise<void> => {
  const { move, fencing, customers } = transfer.ticket;
  await transfer.source.captureStop({ move, fencing, customers });
};

/** An online copy: capture, copy and catch up before the fence; under it, bar the source and apply the rest. */
export function onlineCopy(plan: { tables: string[]; totalRows: number; bounds: CatchUpBounds; resumed: boolean }): CopyMode {
  let copy: OnlineCopy | null = null;
  return {
    kind: 'online',
    why: null,
    async beforeFence(context) {
      const { transfer } = context;
      copy = new OnlineCopy(transfer.source, transfer.target, transfer.ticket, plan.tables, plan.totalRows, (progress) => context.progress(progress));
      await copy.startCapture();
      await context.record('capturing', { online: true, totalRows: plan.totalRows });
      // A move taken over after its source was barred ('fenced' or later, not switched): the source is the truth again, and takes writes while this copy runs.
      if (plan.resumed) await transfer.unbar();
      await pausePoint('capturing');
      context.lap('capture');
      await copy.copy();
      context.lap('copy online');
      const lag = await copy.catchUp(plan.bounds);
      context.lap('catch up');
      await context.record('caught-up', { lag });
      await pausePoint('caught-up');
      context.lap('journal caught-up');
    },
    underFence(_context, keepUp, confirm) {
      if (!copy) throw new Error('an online copy cuts over only after it copied');
      return copy.cutOver(confirm, keepUp);
    },
    cleanUp: (context) => stopCapture(context.transfer),
  };
}

/** Why a move of `totalRows` rows copies fenced, or null when it copies online (`problem`: why the cells cannot, from their /info). */
export function fencedBecause(totalRows: number, onlineRows: number, problem: string | null): string | null {
  if (totalRows <= onlineRows) return `${totalRows} row(s), not more than limits.onlineMoveRows (${onlineRows}): a fenced copy holds them as briefly`;
  if (problem !== null) return `${totalRows} row(s), but ${problem}`;
  return null;
}

/** The mode of a move: online when the customers have more rows than `onlineRows` and every table has a key on both sides. */
export async function chooseMode(
  source: DataApi,
  target: DataApi,
  customers: readonly string[],
  settings: { onlineRows: number; bounds: CatchUpBounds; resumed: boolean },
): Promise<CopyMode> {
  const [counts, sourceInfo, targetInfo] = await Promise.all([summaryInPages(source, customers, false), source.info(), target.info()]);
  const totalRows = counts.reduce((sum, table) => sum + table.rows, 0);
  const why = fencedBecause(totalRows, settings.onlineRows, sourceInfo.online ?? targetInfo.online);
  if (why !== null) return fencedCopy(why, settings.resumed);
  return onlineCopy({ tables: counts.map((table) => table.table), totalRows, bounds: settings.bounds, resumed: settings.resumed });
}
