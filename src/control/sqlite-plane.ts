// The control plane in control.db: the synchronous ControlStore (the one connection to the file) behind
// the asynchronous interface.
import { failure } from '../shared/errors.js';
import type { AbortAndReverse, ControlPlane, MappingRead, MappingRow, NewMigration, NewRouter, PlaneHealth, RouterRecord, SwitchCustomers } from './plane.js';
import { mappingChangedMessage } from './plane.js';
import {
  type CellRecord,
  type CellStatus,
  type CustomerRecord,
  type EventRecord,
  type MigrationLease,
  type MigrationOwner,
  type MigrationRecord,
  type MigrationState,
  type MigrationStep,
  type NewCell,
  type RouterRow,
} from './records.js';
import { ControlStore, type OpenOptions } from './store.js';

export function toRouter(row: RouterRow, nowMs: number, staleAfterMs: number): RouterRecord {
  const age = Math.max(0, nowMs - row.heartbeat_at);
  return {
    id: row.id,
    adminUrl: row.admin_url,
    publicUrl: row.public_url,
    pid: row.pid,
    host: row.host,
    startedAt: row.started_at,
    heartbeatAt: new Date(row.heartbeat_at).toISOString(),
    heartbeatAgeMs: age,
    live: age <= staleAfterMs,
  };
}

export interface SqlitePlaneOptions extends OpenOptions {
  /** How often watchMapping reads the mapping version (SQLite has no notification). */
  pollMs?: number;
}

export class SqliteControlPlane implements ControlPlane {
  readonly kind = 'sqlite' as const;
  private readonly watchers = new Set<NodeJS.Timeout>();

  private constructor(
    readonly store: ControlStore,
    readonly where: string,
    private readonly options: SqlitePlaneOptions,
  ) {}

  static create(file: string, options: SqlitePlaneOptions = {}): SqliteControlPlane {
    return new SqliteControlPlane(ControlStore.create(file), file, options);
  }

  static open(file: string, options: SqlitePlaneOptions = {}): SqliteControlPlane {
    return new SqliteControlPlane(ControlStore.open(file, options), file, options);
  }

  async close(): Promise<void> {
    for (const timer of this.watchers) clearInterval(timer);
    this.watchers.clear();
    this.store.close();
  }

  async health(): Promise<PlaneHealth> {
    try {
      const version = this.store.mappingVersion();
      return { ok: true, detail: `${this.where}: mapping version ${version}` };
    } catch (error) {
      return { ok: false, detail: `${this.where}: ${error instanceof Error ? error.message : String(error)}` };
    }
  }

  // --- cells ---
  async listCells(): Promise<CellRecord[]> {
    return this.store.listCells();
  }
  async getCell(id: string): Promise<CellRecord | undefined> {
    return this.store.getCell(id);
  }
  async insertCell(cell: NewCell): Promise<CellRecord> {
    return this.store.insertCell(cell);
  }
  async deleteCell(id: string): Promise<number> {
    return this.store.deleteCell(id);
  }
  async markCellHealthy(id: string): Promise<void> {
    this.store.markCellHealthy(id);
  }
  async setCellStatus(id: string, status: CellStatus): Promise<void> {
    this.store.setCellStatus(id, status);
  }
  async setCellAddress(id: string, url: string, dataUrl: string): Promise<boolean> {
    return this.store.setCellAddress(id, url, dataUrl);
  }
  async customerCounts(): Promise<Map<string, number>> {
    return this.store.customerCounts();
  }

  // --- the mapping ---
  async mappingVersion(): Promise<number> {
    return this.store.mappingVersion();
  }
  async getCustomer(id: string): Promise<CustomerRecord | undefined> {
    return this.store.getCustomer(id);
  }
  async listCustomers(cellId?: string): Promise<CustomerRecord[]> {
    return this.store.listCustomers(cellId);
  }
  async customerIdsStartingWith(prefix: string, limit: number): Promise<string[]> {
    return this.store.customerIdsStartingWith(prefix, limit);
  }
  async customersChangedSince(rev: number): Promise<MappingRow[]> {
    return this.store.customersChangedSince(rev);
  }
  async customerCount(): Promise<number> {
    return this.store.customerCount();
  }
  async readMapping(sinceRev: number): Promise<MappingRead> {
    return this.store.transaction(() => ({
      version: this.store.mappingVersion(),
      cells: this.store.listCells(),
      changed: this.store.customersChangedSince(sinceRev),
      customerCount: this.store.customerCount(),
    }));
  }
  async pinCustomers(pins: { customerId: string; cellId: string }[]): Promise<string[]> {
    return this.store.pinCustomers(pins);
  }
  async moveCustomer(customerId: string, from: string, to: string): Promise<boolean> {
    return this.store.moveCustomer(customerId, from, to);
  }
  async unmapCustomer(customerId: string, cellId: string): Promise<boolean> {
    return this.store.unmapCustomer(customerId, cellId);
  }

  watchMapping(onChange: (version: number) => void, sinceVersion?: number): () => void {
    let seen = sinceVersion ?? this.store.mappingVersion();
    const timer = setInterval(() => {
      let version: number;
      try {
        version = this.store.mappingVersion();
      } catch {
        return; // busy or closing: the next tick tries again
      }
      if (version !== seen) {
        seen = version;
        onChange(version);
      }
    }, this.options.pollMs ?? 50);
    timer.unref();
    this.watchers.add(timer);
    return () => {
      clearInterval(timer);
      this.watchers.delete(timer);
    };
  }

  // --- events ---
  async addEvent(source: string, kind: string, subject: string, message: string): Promise<void> {
    this.store.addEvent(source, kind, subject, message);
  }
  async eventsAfter(afterId: number, subject?: string): Promise<EventRecord[]> {
    return this.store.eventsAfter(afterId, subject);
  }
  async listEvents(options: { subject?: string; limit: number }): Promise<EventRecord[]> {
    return this.store.listEvents(options);
  }

  // --- the migration journal ---
  async startMigrations(inputs: readonly NewMigration[], owner: MigrationOwner, leaseMs: number): Promise<MigrationRecord[]> {
    return this.store.startMigrations([...inputs], owner, leaseMs);
  }
  async recordMigrationStep(ids: readonly number[], owner: string, step: MigrationStep, detail?: Record<string, unknown>, leaseMs?: number): Promise<void> {
    this.store.recordMigrationStep(ids, owner, step, detail, leaseMs);
  }
  async endMigrations(ids: readonly number[], owner: string, state: Exclude<MigrationState, 'running'>, error: string | null = null): Promise<void> {
    this.store.endMigrations(ids, owner, state, error);
  }
  async renewLease(ids: readonly number[], owner: string, leaseMs: number): Promise<void> {
    this.store.renewLease(ids, owner, leaseMs);
  }
  async takeOverMigration(id: number, seen: MigrationLease | null, owner: MigrationOwner, leaseMs: number): Promise<boolean> {
    return this.store.takeOverMigration(id, seen, owner, leaseMs);
  }
  async newFencing(): Promise<number> {
    return this.store.newFencing();
  }
  async fencingIssued(): Promise<number> {
    return this.store.fencingIssued();
  }
  async advanceFencing(past: number): Promise<number> {
    return this.store.advanceFencing(past);
  }
  async recordKeptSourcePurged(id: number, detail?: Record<string, unknown>): Promise<void> {
    this.store.recordKeptSourcePurged(id, detail);
  }

  async switchCustomers(input: SwitchCustomers): Promise<void> {
    this.store.transaction(() => {
      input.precheck?.();
      this.store.recordMigrationStep(input.ids, input.owner, 'switched', input.detail, input.leaseMs);
      for (const move of input.moves) {
        if (!this.store.moveCustomer(move.customerId, move.from, move.to)) throw failure(mappingChangedMessage(move.customerId), 'E_MAPPING_CHANGED');
      }
    });
  }

  async abortAndReverse(input: AbortAndReverse): Promise<MigrationRecord[]> {
    return this.store.transaction(() => {
      this.store.endMigrations(input.ids, input.owner.token, 'aborted', input.error);
      return this.store.startMigrations([...input.reverse], input.owner, input.leaseMs);
    });
  }

  async getMigration(id: number): Promise<MigrationRecord | undefined> {
    return this.store.getMigration(id);
  }
  async runningMigrationFor(customerId: string): Promise<MigrationRecord | undefined> {
    return this.store.runningMigrationFor(customerId);
  }
  async migrationsOf(customerId: string, limit: number): Promise<MigrationRecord[]> {
    return this.store.migrationsOf(customerId, limit);
  }
  async listMigrations(options: { state?: MigrationState; limit: number }): Promise<MigrationRecord[]> {
    return this.store.listMigrations(options);
  }

  // --- routers ---
  async registerRouter(router: NewRouter): Promise<void> {
    this.store.registerRouter(router, Date.now());
  }
  async heartbeatRouter(id: string): Promise<boolean> {
    return this.store.heartbeatRouter(id, Date.now());
  }
  async listRouters(staleAfterMs: number): Promise<RouterRecord[]> {
    const nowMs = Date.now();
    return this.store.routerRows().map((row) => toRouter(row, nowMs, staleAfterMs));
  }
  async deregisterRouter(id: string): Promise<void> {
    this.store.deregisterRouter(id);
  }

  async readShared(name: string): Promise<string | null> {
    return this.store.readMeta(`shared.${name}`);
  }
  async writeShared(name: string, value: string): Promise<void> {
    this.store.writeMeta(`shared.${name}`, value);
  }
}
