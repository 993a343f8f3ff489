// The control plane's records and errors: what both stores return (sqlite-plane.ts over control.db,
// pg-plane.ts over PostgreSQL) and what their callers handle, with the rows each database returns and
// the mappers from rows to records. Below both implementations and the interface (plane.ts); it
// opens nothing.

export type CellStatus = 'active' | 'draining';

export interface CellRecord {
  id: string;
  template: string;
  templateDir: string;
  schemaVersion: number;
  port: number;
  capacity: number;
  healthPath: string;
  status: CellStatus;
  createdAt: string;
  /** When the cell was first seen healthy; null until then, and placement skips it. */
  firstHealthyAt: string | null;
  /** Where the router sends the cell's customers (http://host:port). */
  url: string;
  /** Where the cell's data API answers (src/data/protocol.ts). */
  dataUrl: string;
  /** The local port of the data API of a cell this workspace runs; null for a registered cell. */
  dataPort: number | null;
  /** Started by this workspace's supervisor (true) or registered by URL and run elsewhere (false). */
  managed: boolean;
}

/** What describes a cell when it is added: everything but what the store itself sets. */
export type NewCell = Omit<CellRecord, 'createdAt' | 'status' | 'firstHealthyAt'>;

export interface CustomerRecord {
  id: string;
  cellId: string;
  createdAt: string;
  rev: number;
}

export interface EventRecord {
  id: number;
  at: string;
  source: string;
  kind: string;
  subject: string;
  message: string;
}

export type MigrationState = 'running' | 'done' | 'aborted' | 'failed';

/**
 * The journal records the last completed step; a run killed anywhere resumes or aborts from it.
 * An online move (migration/online-copy.ts) goes through 'capturing' (the source captures changes and
 * the rows are copied unfenced) and 'caught-up' (the changes left are few) before 'fenced'; a fenced
 * copy goes from 'checked' to 'fenced'. Routers hold the customer from 'fenced' on (router/journal-fences.ts).
 */
export const MIGRATION_STEPS = ['checked', 'capturing', 'caught-up', 'fenced', 'copied', 'verified', 'switched', 'released', 'purged'] as const;
export type MigrationStep = (typeof MIGRATION_STEPS)[number];

/** The steps a move goes through: all of them online, all but the two before the fence for a fenced copy. */
export const stepsOf = (online: boolean): readonly MigrationStep[] =>
  online ? MIGRATION_STEPS : MIGRATION_STEPS.filter((step) => step !== 'capturing' && step !== 'caught-up');

/** Whether a move at `step` has lifted its router fence for good: the target serves its customer, only the source's purge may be left. */
export const fenceLifted = (step: MigrationStep): boolean => MIGRATION_STEPS.indexOf(step) >= MIGRATION_STEPS.indexOf('released');

/** Who runs a migration: a random token (what the compare-and-set checks), and how to tell whether it still lives. */
export interface MigrationOwner {
  token: string;
  pid: number;
  host: string;
  /** The owner process's start time as the OS reports it, so a reused pid is not taken for the owner. */
  started: string | null;
}

export interface MigrationLease extends MigrationOwner {
  /** Epoch ms until which the owner holds the migration without renewing. */
  leaseUntil: number;
}

export interface MigrationRecord {
  id: number;
  customerId: string;
  sourceCell: string;
  targetCell: string;
  step: MigrationStep;
  state: MigrationState;
  keepSourceUntil: string | null;
  batch: string | null;
  detail: Record<string, unknown>;
  error: string | null;
  startedAt: string;
  updatedAt: string;
  owner: MigrationLease | null;
  /** The fencing number of the current owner: cells refuse data writes that carry a lower one. */
  fencing: number;
}

/** A cells row as either store returns it (`managed`: SQLite's 0/1, PostgreSQL's boolean). */
export interface CellRow {
  id: string;
  template: string;
  template_dir: string;
  schema_version: number;
  port: number;
  capacity: number;
  health_path: string;
  status: CellStatus;
  created_at: string;
  first_healthy_at: string | null;
  url: string;
  data_url: string;
  data_port: number | null;
  managed: number | boolean;
}

export interface CustomerRow {
  id: string;
  cell_id: string;
  created_at: string;
  rev: number;
}

/** A migrations row as either store returns it (`detail`: SQLite's JSON text, PostgreSQL's jsonb). */
export interface MigrationRow {
  id: number;
  customer_id: string;
  source_cell: string;
  target_cell: string;
  step: MigrationStep;
  state: MigrationState;
  keep_source_until: string | null;
  batch: string | null;
  detail: string | Record<string, unknown>;
  error: string | null;
  started_at: string;
  updated_at: string;
  owner: string | null;
  owner_pid: number | null;
  owner_host: string | null;
  owner_started: string | null;
  lease_until: number | null;
  fencing: number;
}

export const toCell = (row: CellRow): CellRecord => ({
  id: row.id,
  template: row.template,
  templateDir: row.template_dir,
  schemaVersion: row.schema_version,
  port: row.port,
  capacity: row.capacity,
  healthPath: row.health_path,
  status: row.status,
  createdAt: row.created_at,
  firstHealthyAt: row.first_healthy_at,
  url: row.url,
  dataUrl: row.data_url,
  dataPort: row.data_port,
  managed: row.managed === 1 || row.managed === true,
});

export const toCustomer = (row: CustomerRow): CustomerRecord => ({
  id: row.id,
  cellId: row.cell_id,
  createdAt: row.created_at,
  rev: row.rev,
});

export const toMigration = (row: MigrationRow): MigrationRecord => ({
  id: row.id,
  customerId: row.customer_id,
  sourceCell: row.source_cell,
  targetCell: row.target_cell,
  step: row.step,
  state: row.state,
  keepSourceUntil: row.keep_source_until,
  batch: row.batch,
  detail: typeof row.detail === 'string' ? (JSON.parse(row.detail) as Record<string, unknown>) : row.detail,
  error: row.error,
  startedAt: row.started_at,
  updatedAt: row.updated_at,
  owner:
    row.owner === null
      ? null
      : { token: row.owner, pid: row.owner_pid ?? 0, host: row.owner_host ?? '', started: row.owner_started, leaseUntil: row.lease_until ?? 0 },
  fencing: row.fencing,
});

/** A migration's owner found that another process took it over (or it ended): it must stop without touching data. */
export class OwnershipLost extends Error {
  constructor(readonly migrationIds: readonly number[]) {
    super(`migration ${migrationIds.join(', ')} is no longer ours: another cellctl took it over after our lease lapsed`);
    this.name = 'OwnershipLost';
  }
}

/** A list limit that means every row. */
export const ALL = Number.MAX_SAFE_INTEGER;

export interface NewRouter {
  id: string;
  /** The admin API (fences, stats) that moves call. */
  adminUrl: string;
  /** Where clients send traffic. */
  publicUrl: string;
  pid: number;
  host: string;
  startedAt: string;
}

export interface RouterRecord extends NewRouter {
  /** The last heartbeat (ISO), by the store's clock. */
  heartbeatAt: string;
  /** Milliseconds since the last heartbeat, by the store's clock (hosts' clocks may disagree). */
  heartbeatAgeMs: number;
  /** Heart-beat within the `staleAfterMs` given to listRouters. */
  live: boolean;
}

/** A router's registration as control.db keeps it (the heartbeat in epoch ms). */
export interface RouterRow {
  id: string;
  admin_url: string;
  public_url: string;
  pid: number;
  host: string;
  started_at: string;
  heartbeat_at: number;
}

/** The error for a switch whose mapping row no longer points at the move's source. */
export const mappingChangedMessage = (customerId: string): string =>
  `the mapping of ${customerId} changed during the move; "cellctl customers show ${customerId}" tells where it is now`;
