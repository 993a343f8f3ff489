// What a built-in cell app gives the cell runtime: its routes, its health checks and its metrics.
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { RouteDef } from '../../shared/http.js';

/** One dependency's state as the examples write it: "healthy", or "unhealthy: <why>". */
export type CheckResult = string;

export interface CellApp {
  /**
   * Each handler writes in one statement or one transaction, so a busy database (SQLITE_BUSY) means
   * it wrote nothing and the runtime may run it again.
   */
  routes: RouteDef[];
  /** The example's health answer; `healthy` decides 200 or 503. */
  health(): { healthy: boolean; body: Record<string, unknown> };
  /** The example's metrics figures (the runtime adds cell_id and timestamp). */
  metrics(): Record<string, number>;
  /** Stops background work (workers, timers). The runtime closes the database afterwards. */
  close(): Promise<void>;
}

export interface AppContext {
  db: Database.Database;
  cellId: string;
  log: Logger;
  env: NodeJS.ProcessEnv;
}

export const HEALTHY: CheckResult = 'healthy';
export const isHealthy = (check: CheckResult): boolean => check === HEALTHY;

export function databaseCheck(db: Database.Database): CheckResult {
  try {
    db.prepare('SELECT 1').get();
    return HEALTHY;
  } catch (error) {
    return `unhealthy: ${error instanceof Error ? error.message : String(error)}`;
  }
}
