// The router's link to the control plane (control.db or PostgreSQL): it reads the mapping and the
// running moves' fences (on the plane's notice and on the version poll), reports each read that
// found the mapping current (confirmation.ts: past routerStaleAfterMs without one the router refuses
// customers' requests), and writes new customers' mapping rows (pins) in batches, keeping them in
// memory until the store takes them.
import type { Logger } from 'pino';
import type { ControlPlane } from '../control/plane.js';
import type { FenceBook } from './fences.js';
import { journalFences } from './journal-fences.js';
import type { MappingTable } from './mapping.js';
import type { Upstreams } from './upstreams.js';

/** The running migrations read on each refresh, at most (far more than customers ever move at once). */
const RUNNING_LIMIT = 100_000;

export interface ControlLinkParts {
  /** Opens the control plane; called again after control.db failed a read, so a restored file is picked up. */
  open: () => Promise<ControlPlane>;
  mapping: MappingTable;
  upstreams: Upstreams;
  fences: FenceBook;
  /** The lease of a fence learned from the journal (limits.fenceLeaseMs, read each time: it reloads live). */
  fenceLeaseMs: () => number;
  log: Logger;
  /** A read sent at `sentAt` (performance.now()) found the mapping current, or loaded the newer one. */
  mappingConfirmed?: (sentAt: number) => void;
}

type Pin = { customerId: string; cellId: string };

export class ControlLink {
  private plane: ControlPlane | null = null;
  private connecting: Promise<ControlPlane> | null = null;
  private unwatch: (() => void) | null = null;
  /** Why the control plane could not be read last time, or null when it could. */
  error: string | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private pendingPins: Pin[] = [];
  /** Pins (customer → cell) the store has not confirmed yet: kept mapped through a full reload, and left out of the count check. */
  private readonly unsaved = new Map<string, string>();
  private flushQueued = false;
  private flushing: Promise<void> | null = null;
  /** Fences this router put up from the journal, by customer (their ids). */
  private readonly fromJournal = new Map<string, string>();
  private closed = false;

  constructor(private readonly parts: ControlLinkParts) {}

  /** What the store is, for logs: 'sqlite' or 'postgres' (null until first opened). */
  get kind(): ControlPlane['kind'] | null {
    return this.plane?.kind ?? null;
  }

  /** The open plane (opening it if needed); registration and heartbeats use it too. */
  async connect(): Promise<ControlPlane> {
    if (this.plane) return this.plane;
    this.connecting ??= this.parts.open().then(
      (plane) => {
        this.connecting = null;
        if (this.closed) {
          void plane.close();
          throw new Error('the router is stopping');
        }
        this.plane = plane;
        const seen = this.parts.mapping.mappingVersion;
        this.unwatch = plane.watchMapping(() => void this.refresh(), seen >= 0 ? seen : undefined);
        return plane;
      },
      (error: unknown) => {
        this.connecting = null;
        throw error;
      },
    );
    return this.connecting;
  }

  private async disconnect(): Promise<void> {
    const plane = this.plane;
    this.plane = null;
    this.unwatch?.();
    this.unwatch = null;
    await plane?.close().catch(() => undefined);
  }

  /** Whether this router holds a fence it learned from the journal (it then reads the journal more often). */
  get holdsJournalFences(): boolean {
    return this.fromJournal.size > 0;
  }

  get hasPendingPins(): boolean {
    return this.pendingPins.length > 0;
  }

  /**
   * Reads what changed in the mapping, the cells and the journal's fences; never rejects (the error
   * is kept in `error`). Calls made while a read runs share one more read after it, so a caller
   * always sees what was in the store when it called.
   */
  refresh(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.readOnce();
      } while (this.again && !this.closed);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async readOnce(): Promise<void> {
    // Taken before anything is sent: an answer that arrives late (a pause) confirms no later than this.
    const sentAt = performance.now();
    try {
      const plane = await this.connect();
      // The journal before the mapping: a move seen past its switch has its new mapping row in the read after.
      const running = await plane.listMigrations({ state: 'running', limit: RUNNING_LIMIT });
      await this.readMapping(plane);
      this.applyJournalFences(running);
      this.parts.mappingConfirmed?.(sentAt);
      if (this.error) this.parts.log.info('control plane reachable again');
      this.error = null;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (this.error === null) this.parts.log.warn({ err: error }, 'control plane unreachable; the mapping in memory is served until routerStaleAfterMs');
      this.error = message;
      // control.db is opened again on the next attempt (the file may be replaced or restored meanwhile);
      // a PostgreSQL plane's pool and listener reconnect by themselves.
      if (this.plane?.kind === 'sqlite') await this.disconnect();
    }
  }

  private async readMapping(plane: ControlPlane): Promise<void> {
    const { mapping, upstreams } = this.parts;
    // The version alone first: most checks find nothing new, and the full read counts every row.
    if ((await plane.mappingVersion()) === mapping.mappingVersion) return;
    const read = await plane.readMapping(mapping.revision);
    for (const row of read.changed) this.unsaved.delete(row.id); // the store has it (its row wins)
    const outcome = mapping.apply(read, this.unsaved.size);
    if (outcome === 'unchanged') return;
    if (outcome === 'reload') {
      mapping.replaceAll(await plane.readMapping(0));
      // Pins the store does not have yet stay mapped in memory.
      for (const [customerId, cellId] of this.unsaved) mapping.assign(customerId, cellId);
    }
    upstreams.sync(mapping.allCells());
  }

  private applyJournalFences(running: Parameters<typeof journalFences>[0]): void {
    const { fences } = this.parts;
    const wanted = journalFences(running, (id) => fences.wasGiven(id), Date.now(), this.parts.fenceLeaseMs());
    for (const [customerId, fenceId] of this.fromJournal) {
      if (wanted.get(customerId)?.fenceId === fenceId) continue;
      fences.release(customerId, fenceId);
      this.fromJournal.delete(customerId);
      this.parts.log.info({ customer: customerId, fence: fenceId }, 'journal fence lifted');
    }
    for (const [customerId, fence] of wanted) {
      const known = this.fromJournal.has(customerId);
      if (fences.adopt(customerId, fence.fenceId, fence.leaseUntil)) {
        this.fromJournal.set(customerId, fence.fenceId);
        if (!known) this.parts.log.info({ customer: customerId, fence: fence.fenceId }, 'fenced from the migration journal');
      }
    }
  }

  /** Maps the customer now, in memory, and writes its row soon after (batched with others). */
  pin(customerId: string, cellId: string): void {
    this.parts.mapping.assign(customerId, cellId);
    this.unsaved.set(customerId, cellId);
    this.pendingPins.push({ customerId, cellId });
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => void this.flushPins());
    }
  }

  /** Writes the pins waiting; one write at a time. Never rejects: failed pins wait for the next try. */
  flushPins(): Promise<void> {
    this.flushQueued = false;
    if (this.flushing || this.pendingPins.length === 0) return this.flushing ?? Promise.resolve();
    this.flushing = this.writePins().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async writePins(): Promise<void> {
    const batch = this.pendingPins;
    this.pendingPins = [];
    let written = false;
    try {
      const plane = await this.connect();
      const pinned = await plane.pinCustomers(batch);
      written = true;
      // Each has a row now (this one, or another router's that wins).
      for (const pin of batch) if (this.unsaved.get(pin.customerId) === pin.cellId) this.unsaved.delete(pin.customerId);
      // Another router mapped some first: learn where (its row wins; a pin never moves a customer).
      if (pinned.length < batch.length) void this.refresh();
    } catch (error) {
      // Keep them in memory and try again later: the mapping row is written once the store is back.
      this.parts.log.warn({ err: error, count: batch.length }, 'could not pin customers; will retry');
      this.pendingPins = batch.concat(this.pendingPins);
    }
    if (written && this.pendingPins.length > 0 && !this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => void this.flushPins());
    }
  }

  /**
   * A cell enters placement once a router first finds it healthy, whoever runs it (the supervisor,
   * an engine, a compose file, a host of its own): routers are the only writers of
   * cells.first_healthy_at. Best effort: an unreachable store only delays it.
   */
  async markCellHealthy(cellId: string): Promise<void> {
    try {
      if (!this.plane) return;
      await this.plane.markCellHealthy(cellId);
      await this.refresh();
    } catch (error) {
      this.parts.log.warn({ err: error, cell: cellId }, 'could not record that the cell is healthy');
    }
  }

  /** Writes the pins still waiting (best effort), then closes the plane. */
  async close(): Promise<void> {
    await this.flushPins();
    this.closed = true;
    await this.running;
    await this.disconnect();
  }
}
