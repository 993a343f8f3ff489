// How a move's rows reach the target: a fenced copy (the customers are held for the whole copy:
// small customers, or tables an online move cannot use), or an online copy (held only for the
// cutover; online-copy.ts). The choice, and the capture an online copy leaves to remove.
import { summaryInPages } from '../data/client.js';
import type { DataApi } from '../data/protocol.js';
import type { Transfer } from './transfer.js';

export type CopyChoice = { kind: 'online'; tables: string[]; totalRows: number } | { kind: 'fenced'; why: string };

/** Why a move of `totalRows` rows copies fenced, or null when it copies online (`problem`: why the cells cannot, from their /info). */
export function fencedBecause(totalRows: number, customers: number, onlineRows: number, problem: string | null): string | null {
  // Per customer: a batch of small customers (a drain) keeps the fenced copy, as quick as it was.
  if (totalRows <= onlineRows * customers)
    return `${totalRows} row(s) for ${customers} customer(s), not more than limits.onlineMoveRows (${onlineRows}) each: a fenced copy holds them as briefly`;
  if (problem !== null) return `${totalRows} row(s), but ${problem}`;
  return null;
}

/**
 * How a move copies: online when its customers have more rows than `onlineRows` each and every table
 * has a key on both sides, or when the journal says it started online (`wasOnline`: a capture may be
 * on the source, which an online copy starts again and removes).
 */
export async function chooseCopy(
  source: DataApi,
  target: DataApi,
  customers: readonly string[],
  settings: { onlineRows: number; wasOnline: boolean },
): Promise<CopyChoice> {
  const counts = await summaryInPages(source, customers, false);
  const totalRows = counts.reduce((sum, table) => sum + table.rows, 0);
  const online = (): CopyChoice => ({ kind: 'online', tables: counts.map((table) => table.table), totalRows });
  const small = fencedBecause(totalRows, customers.length, settings.onlineRows, null);
  if (small !== null && !settings.wasOnline) return { kind: 'fenced', why: small };
  const [sourceInfo, targetInfo] = await Promise.all([source.info(), target.info()]);
  const why = fencedBecause(totalRows, customers.length, settings.wasOnline ? -1 : settings.onlineRows, sourceInfo.online ?? targetInfo.online);
  return why === null ? online() : { kind: 'fenced', why };
}

/** Stops the source's capture of the move's customers (its triggers and change table go with the last one); idempotent. */
export async function stopCapture(transfer: Transfer): Promise<void> {
  const { move, fencing, customers } = transfer.ticket;
  await transfer.source.captureStop({ move, fencing, customers });
}
