// Connections to cells: one keep-alive undici Pool per cell, and what the router believes about each
// cell's health (from failed requests and from periodic health checks).
import { Pool } from 'undici';
import type { CellRecord } from '../control/store.js';

export interface Upstream {
  cellId: string;
  port: number;
  pool: Pool;
  healthy: boolean;
  lastError: string | null;
  checkedAt: number;
}

export class Upstreams {
  private readonly byCell = new Map<string, Upstream>();

  constructor(private readonly connectionsPerCell: number) {}

  /** Matches the pools to the current cells (new port → new pool; removed cell → closed pool). */
  sync(cells: readonly CellRecord[]): void {
    const wanted = new Map(cells.map((cell) => [cell.id, cell]));
    for (const [id, upstream] of this.byCell) {
      const cell = wanted.get(id);
      if (!cell || cell.port !== upstream.port) {
        void upstream.pool.close().catch(() => {});
        this.byCell.delete(id);
      }
    }
    for (const cell of cells) {
      if (this.byCell.has(cell.id)) continue;
      this.byCell.set(cell.id, {
        cellId: cell.id,
        port: cell.port,
        pool: new Pool(`http://127.0.0.1:${cell.port}`, {
          connections: this.connectionsPerCell,
          keepAliveTimeout: 30_000,
          connectTimeout: 2_000,
        }),
        healthy: true,
        lastError: null,
        checkedAt: 0,
      });
    }
  }

  get(cellId: string): Upstream | undefined {
    return this.byCell.get(cellId);
  }

  all(): Upstream[] {
    return [...this.byCell.values()];
  }

  markDown(upstream: Upstream, reason: string): void {
    upstream.healthy = false;
    upstream.lastError = reason;
  }

  /** Checks one cell's health endpoint through its pool. */
  async check(upstream: Upstream, healthPath: string): Promise<void> {
    try {
      const response = await upstream.pool.request({ path: healthPath, method: 'GET', headersTimeout: 1_000, bodyTimeout: 1_000 });
      await response.body.dump();
      upstream.healthy = response.statusCode < 500;
      upstream.lastError = upstream.healthy ? null : `health check answered ${response.statusCode}`;
    } catch (error) {
      this.markDown(upstream, error instanceof Error ? error.message : String(error));
    }
    upstream.checkedAt = Date.now();
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((upstream) => upstream.pool.close().catch(() => {})));
    this.byCell.clear();
  }
}
