// The one asynchronous interface to the control plane (cells, the mapping, the migration journal,
// events, router registrations), implemented over SQLite (sqlite-plane.ts) and PostgreSQL (pg-plane.ts).
import type {
  CellRecord,
  CellStatus,
  CustomerRecord,
  EventRecord,
  MigrationLease,
  MigrationOwner,
  MigrationRecord,
  MigrationState,
  MigrationStep,
  NewCell,
  NewRouter,
  RouterRecord,
} from './records.js';

// The records are the interface's vocabulary: whoever holds a plane imports them from here.
export type {
  CellRecord,
  CellStatus,
  CustomerRecord,
  EventRecord,
  MigrationLease,
  MigrationOwner,
  MigrationRecord,
  MigrationState,
  MigrationStep,
  NewCell,
  NewRouter,
  RouterRecord,
};
export { ALL, fenceLifted, mappingChangedMessage, MIGRATION_STEPS, OwnershipLost, stepsOf } from './records.js';

/** What journals a new running migration (startMigrations). */
export interface NewMigration {
  customerId: string;
  sourceCell: string;
  targetCell: string;
  keepSourceUntil: string | null;
  batch: string | null;
  step: MigrationStep;
}

/** A mapping row as the router needs it. */
export interface MappingRow {
  id: string;
  cellId: string;
  rev: number;
}

/** One consistent read of what a router caches: every cell, the rows changed after a revision, and the totals. */
export interface MappingRead {
  version: number;
  cells: CellRecord[];
  changed: MappingRow[];
  /** Every mapping row's count, so a reader notices deletions (they leave no changed row). */
  customerCount: number;
}

/** The switch of a move: journal step 'switched' (compare-and-set on the owner) and the mapping rows, together or not at all. */
export interface SwitchCustomers {
  /** The migrations of the move (all must be running and owned by `owner`). */
  ids: readonly number[];
  owner: string;
  leaseMs: number;
  /** Each row moves only if it still points at `from`. */
  moves: readonly { customerId: string; from: string; to: string }[];
  detail?: Record<string, unknown>;
  /** Called inside the transaction before any write (e.g. "is the router fence still held?"); a throw changes nothing. */
  precheck?: () => void;
}

/** An abort after the switch: the migrations end as aborted and the reverse moves start under the same owner, atomically. */
export interface AbortAndReverse {
  ids: readonly number[];
  /** The owner of `ids`; it owns the reverse migrations too (its token is the compare-and-set key). */
  owner: MigrationOwner;
  error: string;
  reverse: readonly NewMigration[];
  leaseMs: number;
}

export interface PlaneHealth {
  ok: boolean;
  /** One line for people: where the store is (never with a password) and what is wrong. */
  detail: string;
}

export type PlaneKind = 'sqlite' | 'postgres';

export interface ControlPlane {
  readonly kind: PlaneKind;
  /** Where the store is, safe to print: a file path, or a URL without its password. */
  readonly where: string;
  close(): Promise<void>;
  health(): Promise<PlaneHealth>;

  // --- cells ---
  listCells(): Promise<CellRecord[]>;
  getCell(id: string): Promise<CellRecord | undefined>;
  insertCell(cell: NewCell): Promise<CellRecord>;
  /** Deletes the cell and the mapping rows that point at it; returns how many rows went. */
  deleteCell(id: string): Promise<number>;
  markCellHealthy(id: string): Promise<void>;
  setCellStatus(id: string, status: CellStatus): Promise<void>;
  /** Where a cell answers now (a cell that registers itself at start: `serve --register-url`); false when there is no such cell. */
  setCellAddress(id: string, url: string, dataUrl: string): Promise<boolean>;
  customerCounts(): Promise<Map<string, number>>;

  // --- the mapping ---
  mappingVersion(): Promise<number>;
  getCustomer(id: string): Promise<CustomerRecord | undefined>;
  listCustomers(cellId?: string): Promise<CustomerRecord[]>;
  /** Up to `limit` mapped customer ids that start with `prefix`, in byte order (shell completion). */
  customerIdsStartingWith(prefix: string, limit: number): Promise<string[]>;
  customersChangedSince(rev: number): Promise<MappingRow[]>;
  customerCount(): Promise<number>;
  /** One consistent snapshot for a router's refresh (version, cells, rows changed after `sinceRev`, count). */
  readMapping(sinceRev: number): Promise<MappingRead>;
  /** Pins customers, keeping rows that exist (a pin never moves a customer); returns the newly pinned ids. */
  pinCustomers(pins: { customerId: string; cellId: string }[]): Promise<string[]>;
  /** Moves a row only if it still points at `from`. */
  moveCustomer(customerId: string, from: string, to: string): Promise<boolean>;
  /** Removes a row only while it points at `cellId` and no migration of the customer runs. */
  unmapCustomer(customerId: string, cellId: string): Promise<boolean>;
  /**
   * Calls `onChange(version)` after the mapping (or a cell) changed: at once by notification where the
   * store has one, else (and always, as a safety net) by a poll of the mapping version. Given
   * `sinceVersion` (the version the caller last read), a change made before the watch was ready
   * still fires. Returns the unsubscribe.
   */
  watchMapping(onChange: (version: number) => void, sinceVersion?: number): () => void;

  // --- events ---
  addEvent(source: string, kind: string, subject: string, message: string): Promise<void>;
  eventsAfter(afterId: number, subject?: string): Promise<EventRecord[]>;
  listEvents(options: { subject?: string; limit: number }): Promise<EventRecord[]>;

  // --- the migration journal (every write by an owner is a compare-and-set; OwnershipLost otherwise) ---
  startMigrations(inputs: readonly NewMigration[], owner: MigrationOwner, leaseMs: number): Promise<MigrationRecord[]>;
  recordMigrationStep(ids: readonly number[], owner: string, step: MigrationStep, detail?: Record<string, unknown>, leaseMs?: number): Promise<void>;
  endMigrations(ids: readonly number[], owner: string, state: Exclude<MigrationState, 'running'>, error?: string | null): Promise<void>;
  renewLease(ids: readonly number[], owner: string, leaseMs: number): Promise<void>;
  takeOverMigration(id: number, seen: MigrationLease | null, owner: MigrationOwner, leaseMs: number): Promise<boolean>;
  newFencing(): Promise<number>;
  /** The last fencing number handed out (0: none yet); a cell that has seen a higher one means the plane is behind its cells. */
  fencingIssued(): Promise<number>;
  /** Raises the sequence so that every number handed out from now on is above `past` (never lowers it); returns the last one issued. */
  advanceFencing(past: number): Promise<number>;
  recordKeptSourcePurged(id: number, detail?: Record<string, unknown>): Promise<void>;
  /** Throws OwnershipLost (nothing changed) or a failure E_MAPPING_CHANGED (nothing changed). */
  switchCustomers(input: SwitchCustomers): Promise<void>;
  /** Returns the reverse migrations it started. Throws OwnershipLost (nothing changed). */
  abortAndReverse(input: AbortAndReverse): Promise<MigrationRecord[]>;
  getMigration(id: number): Promise<MigrationRecord | undefined>;
  runningMigrationFor(customerId: string): Promise<MigrationRecord | undefined>;
  migrationsOf(customerId: string, limit: number): Promise<MigrationRecord[]>;
  listMigrations(options: { state?: MigrationState; limit: number }): Promise<MigrationRecord[]>;

  // --- routers ---
  /** Registers (or re-registers) a router; its heartbeat starts now. */
  registerRouter(router: NewRouter): Promise<void>;
  /** Returns false when the router is not registered (it should register again). */
  heartbeatRouter(id: string): Promise<boolean>;
  /** Every registered router, each marked live when it heart-beat within `staleAfterMs`. */
  listRouters(staleAfterMs: number): Promise<RouterRecord[]>;
  deregisterRouter(id: string): Promise<void>;

  // --- values shared with processes that have no workspace folder (a swarm's routers read the settings here) ---
  /** A shared value (meta key `shared.<name>`), or null when none was written. */
  readShared(name: string): Promise<string | null>;
  writeShared(name: string, value: string): Promise<void>;
}
