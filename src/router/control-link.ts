// The router's link to control.db: it reads the mapping (on notice and on the version poll), keeps
// serving from memory while the file cannot be read, and writes new customers' mapping rows (pins)
// in batches, keeping them in memory until the store takes them.
import type { Logger } from 'pino';
import type { ControlStore } from '../control/store.js';
import type { MappingTable } from './mapping.js';
import type { Upstreams } from './upstreams.js';

export class ControlLink {
  private store: ControlStore | null;
  /** Why control.db could not be read last time, or null when it could. */
  error: string | null = null;
  private pendingPins: { customerId: string; cellId: string }[] = [];
  private flushQueued = false;

  constructor(
    /** Opens control.db; called again after a read fails, so a restored file is picked up. */
    private readonly openStore: () => ControlStore,
    private readonly mapping: MappingTable,
    private readonly upstreams: Upstreams,
    private readonly log: Logger,
  ) {
    this.store = openStore();
  }

  get hasPendingPins(): boolean {
    return this.pendingPins.length > 0;
  }

  /** Reads what changed in the mapping and cells; never throws (the error is kept in `error`). */
  refresh(): void {
    try {
      this.store ??= this.openStore();
      if (this.mapping.refresh(this.store)) this.upstreams.sync(this.mapping.allCells());
      if (this.error) this.log.info('control.db readable again');
      this.error = null;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (this.error === null) this.log.warn({ err: error }, 'control.db unreadable; serving from the mapping in memory');
      this.error = message;
      // Reopen on the next attempt: the file may be replaced or restored meanwhile.
      this.store?.close();
      this.store = null;
    }
  }

  /** Maps the customer now, in memory, and writes its row soon after (batched with others). */
  pin(customerId: string, cellId: string): void {
    this.mapping.assign(customerId, cellId);
    this.pendingPins.push({ customerId, cellId });
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => this.flushPins());
    }
  }

  flushPins(): void {
    this.flushQueued = false;
    if (this.pendingPins.length === 0) return;
    const batch = this.pendingPins;
    this.pendingPins = [];
    try {
      if (!this.store) throw new Error('control.db is unavailable');
      this.store.pinCustomers(batch);
    } catch (error) {
      // Keep them in memory and try again later: the mapping row is written once the store is back.
      this.log.warn({ err: error, count: batch.length }, 'could not pin customers; will retry');
      this.pendingPins = batch.concat(this.pendingPins);
    }
  }

  /**
   * A registered cell (run elsewhere, with no supervisor watching it) enters placement once the
   * router first finds it healthy. Best effort: a damaged control.db only delays it.
   */
  markCellHealthy(cellId: string): void {
    try {
      if (!this.store) return;
      this.store.markCellHealthy(cellId);
      this.refresh();
    } catch (error) {
      this.log.warn({ err: error, cell: cellId }, 'could not record that the registered cell is healthy');
    }
  }

  close(): void {
    this.store?.close();
  }
}
