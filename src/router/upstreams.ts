// Connections to cells: one set of kept-alive connections per cell, and what the router believes
// about each cell's health (from failed requests and from periodic health checks).
import type { CellRecord } from '../control/store.js';
import { CellLinks, fetchSmall } from './relay.js';

export interface Upstream {
  cellId: string;
  port: number;
  links: CellLinks;
  healthy: boolean;
  lastError: string | null;
  checkedAt: number;
  /** When the cell last timed out: a hung cell fails fast, and is tried again after RETRY_HUNG_MS. */
  hungAt: number;
}

/** How long requests to a cell that timed out fail fast before one is let through to try it again. */
export const RETRY_HUNG_MS = 250;

export class Upstreams {
  private readonly byCell = new Map<string, Upstream>();

  constructor(private readonly connectionsPerCell: number) {}

  /** Matches the pools to the current cells (new port → new pool; removed cell → closed pool). */
  sync(cells: readonly CellRecord[]): void {
    const wanted = new Map(cells.map((cell) => [cell.id, cell]));
    for (const [id, upstream] of this.byCell) {
      const cell = wanted.get(id);
      if (!cell || cell.port !== upstream.port) {
        upstream.links.close();
        this.byCell.delete(id);
      }
    }
    for (const cell of cells) {
      if (this.byCell.has(cell.id)) continue;
      this.byCell.set(cell.id, {
        cellId: cell.id,
        port: cell.port,
        links: new CellLinks(cell.port, this.connectionsPerCell),
        healthy: true,
        lastError: null,
        checkedAt: 0,
        hungAt: 0,
      });
    }
  }

  get(cellId: string): Upstream | undefined {
    return this.byCell.get(cellId);
  }

  all(): Upstream[] {
    return [...this.byCell.values()];
  }

  /** `hung`: the cell timed out (rather than refused the connection), so waiting on it is costly. */
  markDown(upstream: Upstream, reason: string, hung = false): void {
    upstream.healthy = false;
    upstream.lastError = reason;
    if (hung) upstream.hungAt = Date.now();
  }

  markUp(upstream: Upstream): void {
    upstream.healthy = true;
    upstream.lastError = null;
    upstream.hungAt = 0;
  }

  /**
   * Whether to send a request to this cell. A refused connection costs nothing to find out again, so
   * a cell marked down is still tried (and found at once when it is back); a cell that hung is
   * skipped, but one request is let through every RETRY_HUNG_MS to see if it recovered.
   */
  mayTry(upstream: Upstream, now: number): boolean {
    if (upstream.healthy || now - upstream.hungAt >= RETRY_HUNG_MS) {
      if (!upstream.healthy && upstream.hungAt !== 0) upstream.hungAt = now;
      return true;
    }
    return false;
  }

  /** Checks one cell's health endpoint over its kept-alive connections. */
  async check(upstream: Upstream, healthPath: string): Promise<void> {
    try {
      const response = await fetchSmall(upstream.links, healthPath, 1_000);
      if (response.status < 500) this.markUp(upstream);
      else this.markDown(upstream, `health check answered ${response.status}`);
    } catch (error) {
      this.markDown(upstream, error instanceof Error ? error.message : String(error), (error as { reason?: string }).reason === 'timeout');
    }
    upstream.checkedAt = Date.now();
  }

  close(): void {
    for (const upstream of this.byCell.values()) upstream.links.close();
    this.byCell.clear();
  }
}
