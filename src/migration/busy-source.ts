// A move's source purge after the switch, retried while the source's database is busy: another
// writer (the cell's own app, a user's app that keeps a transaction open, a sqlite3 shell) holds its
// write lock. The data API already waits a few seconds per call (shared/http.ts) and then answers
// 503 database_busy; here the mover waits longer, with backoff, within limits.purgeBusyRetryMs, and
// then stops with a message that names the cell and what blocks it. The customer is served by the
// target all the while: only the source's old rows wait.
import { DataApiError } from '../data/client.js';
import { failure } from '../shared/errors.js';

/** The data API's answer when a call found the database locked by another writer for its whole wait. */
export const isDatabaseBusy = (error: unknown): boolean => error instanceof DataApiError && error.code === 'database_busy';

const BACKOFF_MS = [250, 500, 1_000, 2_000, 4_000];

export interface BusyRetry {
  /** How long to keep trying after the first busy answer. */
  boundMs: number;
  /** The source cell, named in the message. */
  cell: string;
  /** The migration that `cellctl migrate resume` finishes. */
  migrationId: number;
  /** Test seam for the wait between tries. */
  sleep?: (ms: number) => Promise<void>;
}

/** Runs `purge` until it succeeds; while the database is busy, again with backoff within the bound, then a clear failure. */
export async function purgeWhileBusy<T>(purge: () => Promise<T>, retry: BusyRetry): Promise<T> {
  const sleep = retry.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let deadline: number | null = null;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await purge();
    } catch (error) {
      if (!isDatabaseBusy(error)) throw error;
      deadline ??= Date.now() + retry.boundMs;
      const wait = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]!;
      if (Date.now() + wait > deadline) throw sourceBusy(retry);
      await sleep(wait);
    }
  }
}

function sourceBusy(retry: BusyRetry) {
  return failure(
    `the old rows in cell ${retry.cell} could not be purged: ${retry.cell}'s database is locked by another writer ` +
      `(still busy after retrying for ${Math.round(retry.boundMs / 1000)} s; limits.purgeBusyRetryMs). The customer is served by its new cell meanwhile. ` +
      `Find what holds a write transaction open on ${retry.cell}'s data.db (its app, a sqlite3 shell), let it finish, then run "cellctl migrate resume ${retry.migrationId}"`,
    'E_DATABASE_BUSY',
  );
}
