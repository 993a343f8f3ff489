// The health check every cellctl data API (and every built-in cell) adds to its /health answer: a
// write to a table of the data API's own. A database that refuses writes (another writer keeps its
// lock, a read-only file) makes the cell unhealthy, never crashed: a restart does not free a lock
// someone else holds, so the supervisor does not restart a cell for it.

/** The check's name in a health answer's checks. */
export const WRITES_CHECK = 'database_writes';

/** What the check says when the write was refused; status, health and the dashboard show it. */
export const WRITES_REFUSED = 'database refuses writes';

/** One check of a health answer, as cellctl reads any cell's (cell/client.ts). */
export interface HealthCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

/** Whether the only failing checks of an answer are the write probe's (so a restart would not help). */
export const onlyWritesRefused = (checks: readonly HealthCheck[]): boolean => {
  const failing = checks.filter((check) => !check.ok);
  return failing.length > 0 && failing.every((check) => check.name === WRITES_CHECK);
};
