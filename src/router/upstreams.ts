// Connections to cells: one set of kept-alive connections per cell, and what the router believes
// about each cell's health (from failed requests and from periodic health checks).
import type { CellRecord } from '../control/records.js';
import { cellAddress } from '../shared/urls.js';
import { CellLinks, fetchSmall } from './relay.js';

export interface Upstream {
  cellId: string;
  /** The cell's URL (control.db): a changed one gets a new pool. */
  url: string;
  links: CellLinks;
  healthy: boolean;
  lastError: string | null;
  checkedAt: number;
  /**
   * The cell timed out (it accepts connections but does not answer: stopped, or stuck): its
   * requests fail fast until a health check passes, instead of each waiting the whole timeout.
   */
  hung: boolean;
  /** A health check is in flight: the next one waits for it, so checks of a hung cell do not pile up. */
  checking: boolean;
}

export class Upstreams {
  private readonly byCell = new Map<string, Upstream>();

  constructor(private readonly connectionsPerCell: number) {}

  /** Matches the pools to the current cells (new URL → new pool; removed cell → closed pool). */
  sync(cells: readonly CellRecord[]): void {
    const wanted = new Map(cells.map((cell) => [cell.id, cell]));
    for (const [id, upstream] of this.byCell) {
      const cell = wanted.get(id);
      if (!cell || cell.url !== upstream.url) {
        upstream.links.close();
        this.byCell.delete(id);
      }
    }
    for (const cell of cells) {
      if (this.byCell.has(cell.id)) continue;
      this.byCell.set(cell.id, {
        cellId: cell.id,
        url: cell.url,
        links: new CellLinks(cellAddress(cell), this.connectionsPerCell),
        healthy: true,
        lastError: null,
        checkedAt: 0,
        hung: false,
        checking: false,
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
    upstream.hung = hung;
  }

  markUp(upstream: Upstream): void {
    upstream.healthy = true;
    upstream.lastError = null;
    upstream.hung = false;
  }

  /**
   * Whether to send a request to this cell. A refused connection costs nothing to find out again, so
   * a cell marked down is still tried (and found at once when it is back); a cell that hung is not
   * tried until its health check passes (checks of cells marked down run four times a second).
   */
  mayTry(upstream: Upstream): boolean {
    return !upstream.hung;
  }

  /**
   * Checks one cell's health endpoint over its kept-alive connections. True only when this call ran
   * the check and the cell passed it: a check already in flight answers false at once (the cell's
   * `healthy` is then only what the router assumed or last found).
   */
  async check(upstream: Upstream, healthPath: string): Promise<boolean> {
    if (upstream.checking) return false;
    upstream.checking = true;
    try {
      const response = await fetchSmall(upstream.links, healthPath, 1_000);
      if (response.status < 500) this.markUp(upstream);
      else this.markDown(upstream, `health check answered ${response.status}`);
    } catch (error) {
      this.markDown(upstream, error instanceof Error ? error.message : String(error), (error as { reason?: string }).reason === 'timeout');
    } finally {
      upstream.checking = false;
    }
    upstream.checkedAt = Date.now();
    return upstream.healthy;
  }

  close(): void {
    for (const upstream of this.byCell.values()) upstream.links.close();
    this.byCell.clear();
  }
}
