// What a built-in cell app gives the cell runtime: its routes, its health checks and its metrics.
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { RouteDef } from '../../shared/http.js';

export interface HealthCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface CellApp {
  /**
   * Each handler writes in one statement or one transaction, so a busy database (SQLITE_BUSY) means
   * it wrote nothing and the runtime may run it again.
   */
  routes: RouteDef[];
  checks(): HealthCheck[];
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

export function databaseCheck(db: Database.Database): HealthCheck {
  try {
    db.prepare('SELECT 1').get();
    return { name: 'database', ok: true };
  } catch (error) {
    return { name: 'database', ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}
