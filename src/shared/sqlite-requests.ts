// SQLite as the JSON listeners' store (shared/http.ts StorePolicy): a request whose database is busy
// runs again on timers, and a write the data API's barrier refused is answered 503 customer_moving.
import { HTTP_ERRORS } from './error-codes.js';
import { HttpError, type Reply, type StorePolicy } from './http.js';

/**
 * What the data API's barrier triggers raise (src/data/barrier.ts) when a program writes a row of a
 * customer being moved away. Every route answers it 503 customer_moving, with Retry-After.
 */
export const BARRED_WRITE_MESSAGE = 'cellctl: customer is barred by a move';
export const isBarredWrite = (error: unknown): boolean => error instanceof Error && error.message.includes(BARRED_WRITE_MESSAGE);

function barredAnswer(customer: string | undefined): { error: string; code: string } {
  const who = customer === undefined ? 'this customer' : `customer ${customer}`;
  return { error: `${who} is being moved to another cell; retry shortly`, code: 'customer_moving' };
}

/**
 * How long a request whose database is busy (another connection holds the write lock: a move's
 * chunk, a checkpoint) is retried before it is answered 503. The retries wait on timers, never in
 * SQLite's own busy handler, so the process keeps serving everything else meanwhile.
 */
export const BUSY_RETRY_MS = 5_000;
const BUSY_BACKOFF_MS = [2, 5, 10, 20, 40, 80, 100];

const isBusy = (error: unknown): boolean => String((error as { code?: unknown }).code ?? '').startsWith('SQLITE_BUSY');

/**
 * Runs a handler, running it again while the database is busy. Safe because a handler writes in one
 * statement or one transaction: a busy error means it wrote nothing.
 */
async function withBusyRetry(handler: () => Reply | Promise<Reply>, onFirstBusy: () => void): Promise<Reply> {
  const deadline = Date.now() + BUSY_RETRY_MS;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await handler();
    } catch (error) {
      if (!isBusy(error)) throw error;
      if (attempt === 0) onFirstBusy();
      if (Date.now() >= deadline) throw new HttpError('database_busy', 'the database is busy; retry shortly');
      await new Promise((resolve) => setTimeout(resolve, BUSY_BACKOFF_MS[Math.min(attempt, BUSY_BACKOFF_MS.length - 1)]));
    }
  }
}

/** Busy retries, and the barrier's refusals answered as a move in progress (with Retry-After). */
export const sqliteRequests: StorePolicy = {
  run: withBusyRetry,
  answer: (error, params) =>
    isBarredWrite(error) ? { status: HTTP_ERRORS.customer_moving.status, body: barredAnswer(params.id), headers: { 'retry-after': '1' } } : null,
};
