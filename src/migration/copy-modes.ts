// How a move's rows reach the target: a fenced copy (the customers are held for the whole copy:
// small customers, or tables an online move cannot use), or an online copy (held only for the
// cutover; online-copy.ts). The choice, and why.
import { summaryInPages } from '../data/client.js';
import type { DataApi } from '../data/protocol.js';

export type CopyChoice = { kind: 'online'; tables: string[]; totalRows: number } | { kind: 'fenced'; why: string };

/** Why customers this small copy fenced (at most `onlineRows` rows each), or null. Per customer: a batch of small ones (a drain) keeps the fenced copy, as quick as it was. */
export function smallCopy(totalRows: number, customers: number, onlineRows: number): string | null {
  if (totalRows > onlineRows * customers) return null;
  return `${totalRows} row(s) for ${customers} customer(s), not more than limits.onlineMoveRows (${onlineRows}) each: a fenced copy holds them as briefly`;
}

/** Why the cells cannot copy online (`problem`, from their /info), or null. */
export const keylessCopy = (totalRows: number, problem: string | null): string | null => (problem === null ? null : `${totalRows} row(s), but ${problem}`);

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
  const small = settings.wasOnline ? null : smallCopy(totalRows, customers.length, settings.onlineRows);
  if (small !== null) return { kind: 'fenced', why: small };
  const [sourceInfo, targetInfo] = await Promise.all([source.info(), target.info()]);
  const keyless = keylessCopy(totalRows, sourceInfo.online ?? targetInfo.online);
  return keyless === null ? online() : { kind: 'fenced', why: keyless };
}
