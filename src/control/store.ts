// The control plane store: the only module that reads or writes control.db (cells, the customer
// mapping, the migration journal, events). Every method is one short statement or transaction.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import { describeError, failure } from '../shared/errors.js';
import { configureSqlite } from '../shared/sqlite.js';
import {
  type CellRecord,
  type CellRow,
  type CellStatus,
  type CustomerRecord,
  type CustomerRow,
  type EventRecord,
  type MigrationLease,
  type MigrationOwner,
  type MigrationRecord,
  type MigrationRow,
  type MigrationState,
  type MigrationStep,
  type NewCell,
  OwnershipLost,
  type RouterRow,
  toCell,
  toCustomer,
  toMigration,
} from './records.js';
import { canonicalRow, type ControlDump, DUMP_TABLES, type DumpRow, type DumpTable } from './dump.js';
import { CONTROL_SCHEMA, CONTROL_SCHEMA_UPGRADES, CONTROL_SCHEMA_VERSION } from './schema.js';

const now = (): string => new Date().toISOString();

/** Brings an older control.db up to this build's schema, one version at a time, in one transaction. */
function upgradeSchema(db: Database.Database, from: number): number {
  // A table rebuilt under a foreign key (cells, for customers) needs the checks off meanwhile; they
  // are run once over the result instead, before the transaction commits.
  db.pragma('foreign_keys = OFF');
  try {
    db.transaction(() => {
      for (let version = from; version < CONTROL_SCHEMA_VERSION; version += 1) db.exec(CONTROL_SCHEMA_UPGRADES[version - 1]!);
      db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(CONTROL_SCHEMA_VERSION));
      const broken = db.pragma('foreign_key_check') as unknown[];
      if (broken.length > 0) throw new Error(`the upgrade left ${broken.length} rows with a dangling reference`);
    }).immediate();
  } finally {
    db.pragma('foreign_keys = ON');
  }
  return CONTROL_SCHEMA_VERSION;
}

export interface OpenOptions {
  readonly?: boolean;
  /** How long a statement waits for a lock. The router uses a short one: it must never stall. */
  busyTimeoutMs?: number;
}

const ROUTERS_TABLE = `CREATE TABLE IF NOT EXISTS routers (
  id           TEXT PRIMARY KEY,
  admin_url    TEXT NOT NULL,
  public_url   TEXT NOT NULL,
  pid          INTEGER NOT NULL,
  host         TEXT NOT NULL,
  started_at   TEXT NOT NULL,
  heartbeat_at INTEGER NOT NULL
)`;

/** The one connection to a control.db: every reader and writer of the file goes through it. */
export class ControlStore {
  private routersReady = false;

  private constructor(private readonly db: Database.Database) {}

  /** Creates control.db with its schema. Fails if the file exists. */
  static create(file: string): ControlStore {
    if (fs.existsSync(file)) throw failure(`${file} already exists`);
    const db = new Database(file);
    try {
      configureSqlite(db);
      db.exec('BEGIN');
      db.exec(CONTROL_SCHEMA);
      const setMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      setMeta.run('schema_version', String(CONTROL_SCHEMA_VERSION));
      setMeta.run('mapping_version', '0');
      setMeta.run('fencing_seq', '0');
      db.exec('COMMIT');
    } catch (error) {
      db.close();
      fs.rmSync(file, { force: true });
      throw error;
    }
    return new ControlStore(db);
  }

  /** Opens an existing control.db and checks that it is one, of a schema version this build knows. */
  static open(file: string, options: OpenOptions = {}): ControlStore {
    if (!fs.existsSync(file)) {
      throw failure(`${file} is missing: this is not an initialised workspace; run "cellctl init" first`);
    }
    let db: Database.Database;
    try {
      db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: true });
      if (!options.readonly) configureSqlite(db);
      db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
      if (!row) throw new Error('no schema_version in meta');
      let version = Number(row.value);
      if (version < CONTROL_SCHEMA_VERSION && version >= 1 && !options.readonly) version = upgradeSchema(db, version);
      if (version !== CONTROL_SCHEMA_VERSION) {
        db.close();
        throw failure(
          `${file} has control schema version ${version}, this cellctl reads version ${CONTROL_SCHEMA_VERSION}: use the cellctl release that made it`,
        );
      }
    } catch (error) {
      if (error instanceof Error && error.name === 'CellctlError') throw error;
      throw failure(`cannot read ${file} (${describeError(error)}): it is not a cellctl control database or it is damaged; restore it from a backup`);
    }
    return new ControlStore(db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // --- routers: their own table beside the control schema, made on the first read-write use ---------

  /** Whether the routers table is there (made now unless this connection is read-only: a read-only open of a control.db no router wrote to has none). */
  private routersTable(): boolean {
    if (!this.routersReady) {
      if (!this.db.readonly) this.db.exec(ROUTERS_TABLE);
      this.routersReady = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'routers'").get() !== undefined;
    }
    return this.routersReady;
  }

  registerRouter(router: { id: string; adminUrl: string; publicUrl: string; pid: number; host: string; startedAt: string }, nowMs: number): void {
    this.routersTable();
    this.db
      .prepare(
        `INSERT INTO routers (id, admin_url, public_url, pid, host, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET admin_url = excluded.admin_url, public_url = excluded.public_url, pid = excluded.pid,
           host = excluded.host, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`,
      )
      .run(router.id, router.adminUrl, router.publicUrl, router.pid, router.host, router.startedAt, nowMs);
  }

  heartbeatRouter(id: string, nowMs: number): boolean {
    return this.routersTable() && this.db.prepare('UPDATE routers SET heartbeat_at = ? WHERE id = ?').run(nowMs, id).changes === 1;
  }

  routerRows(): RouterRow[] {
    return this.routersTable() ? (this.db.prepare('SELECT * FROM routers ORDER BY id').all() as RouterRow[]) : [];
  }

  deregisterRouter(id: string): void {
    if (this.routersTable()) this.db.prepare('DELETE FROM routers WHERE id = ?').run(id);
  }

  /** Runs `read` in one transaction: a consistent snapshot while other processes write (control dump and copy). */
  snapshot<T>(read: (all: (sql: string) => Record<string, unknown>[]) => T): T {
    return this.db.transaction(() => read((sql) => this.db.prepare(sql).all() as Record<string, unknown>[]))();
  }

  /** Every row, read in one transaction (a consistent snapshot even while cellctl writes), in the dump format (dump.ts). */
  dump(): ControlDump {
    return this.snapshot((all) => {
      const meta = new Map((all('SELECT key, value FROM meta') as { key: string; value: string }[]).map((r) => [r.key, r.value]));
      const tables = Object.fromEntries(
        (Object.keys(DUMP_TABLES) as DumpTable[]).map((t) => [t, all(`SELECT ${DUMP_TABLES[t].join(', ')} FROM ${t}`).map((row) => canonicalRow(t, row))]),
      ) as Record<DumpTable, DumpRow[]>;
      return { tables, mappingVersion: Number(meta.get('mapping_version') ?? 0), fencingSeq: Number(meta.get('fencing_seq') ?? 0) };
    });
  }

  readMeta(key: string): string | null {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value ?? null;
  }

  writeMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  // --- cells ---------------------------------------------------------------------------------

  listCells(): CellRecord[] {
    return (this.db.prepare('SELECT * FROM cells ORDER BY id').all() as CellRow[]).map(toCell);
  }

  getCell(id: string): CellRecord | undefined {
    const row = this.db.prepare('SELECT * FROM cells WHERE id = ?').get(id) as CellRow | undefined;
    return row && toCell(row);
  }

  insertCell(cell: NewCell): CellRecord {
    const createdAt = now();
    this.db
      .prepare(
        `INSERT INTO cells (id, template, template_dir, schema_version, port, capacity, health_path, status, created_at, url, data_url, data_port, managed)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?)`,
      )
      .run(
        cell.id,
        cell.template,
        cell.templateDir,
        cell.schemaVersion,
        cell.port,
        cell.capacity,
        cell.healthPath,
        createdAt,
        cell.url,
        cell.dataUrl,
        cell.dataPort,
        cell.managed ? 1 : 0,
      );
    return { ...cell, status: 'active', createdAt, firstHealthyAt: null };
  }

  /** Deletes a cell and the mapping rows that point at it, in one transaction. */
  deleteCell(id: string): number {
    return this.db.transaction(() => {
      const removed = this.db.prepare('DELETE FROM customers WHERE cell_id = ?').run(id).changes;
      this.db.prepare('DELETE FROM cells WHERE id = ?').run(id);
      return removed;
    })();
  }

  /** Records the first time a cell was seen healthy (later calls change nothing). */
  markCellHealthy(id: string): void {
    this.db.prepare('UPDATE cells SET first_healthy_at = ? WHERE id = ? AND first_healthy_at IS NULL').run(now(), id);
  }

  setCellStatus(id: string, status: CellStatus): void {
    this.db.prepare('UPDATE cells SET status = ? WHERE id = ?').run(status, id);
  }

  setCellAddress(id: string, url: string, dataUrl: string): boolean {
    return this.db.prepare('UPDATE cells SET url = ?, data_url = ? WHERE id = ?').run(url, dataUrl, id).changes === 1;
  }

  /** Customers mapped to each cell (cells with none are absent). */
  customerCounts(): Map<string, number> {
    const rows = this.db.prepare('SELECT cell_id, COUNT(*) AS n FROM customers GROUP BY cell_id').all() as {
      cell_id: string;
      n: number;
    }[];
    return new Map(rows.map((row) => [row.cell_id, row.n]));
  }

  // --- the mapping ---------------------------------------------------------------------------

  mappingVersion(): number {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'mapping_version'").get() as { value: string };
    return Number(row.value);
  }

  getCustomer(id: string): CustomerRecord | undefined {
    const row = this.db.prepare('SELECT * FROM customers WHERE id = ?').get(id) as CustomerRow | undefined;
    return row && toCustomer(row);
  }

  listCustomers(cellId?: string): CustomerRecord[] {
    const rows = cellId
      ? this.db.prepare('SELECT * FROM customers WHERE cell_id = ? ORDER BY id').all(cellId)
      : this.db.prepare('SELECT * FROM customers ORDER BY id').all();
    return (rows as CustomerRow[]).map(toCustomer);
  }

  /** Up to `limit` customer ids starting with `prefix`: a range of the primary key (SQLite compares bytes). */
  customerIdsStartingWith(prefix: string, limit: number): string[] {
    const rows = this.db.prepare('SELECT id FROM customers WHERE id >= ? ORDER BY id LIMIT ?').all(prefix, limit) as { id: string }[];
    return rows.map((row) => row.id).filter((id) => id.startsWith(prefix));
  }

  /** Mapping rows changed after `rev`, for the router's incremental refresh. */
  customersChangedSince(rev: number): { id: string; cellId: string; rev: number }[] {
    // Row by row into the records, with no array of row objects beside them: a router's first read
    // is a million rows, and the peak of that read is most of its memory afterwards.
    const rows: { id: string; cellId: string; rev: number }[] = [];
    for (const [id, cellId, changed] of this.db.prepare('SELECT id, cell_id, rev FROM customers WHERE rev > ?').raw().iterate(rev) as Iterable<
      [string, string, number]
    >) {
      rows.push({ id, cellId, rev: changed });
    }
    return rows;
  }

  customerCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM customers').get() as { n: number }).n;
  }

  /**
   * Pins customers to cells, keeping any row that already exists (a pin never moves a customer).
   * Returns the ids that were newly pinned.
   */
  pinCustomers(pins: { customerId: string; cellId: string }[]): string[] {
    const insert = this.db.prepare('INSERT OR IGNORE INTO customers (id, cell_id, created_at) VALUES (?, ?, ?)');
    return this.db.transaction(() => {
      const at = now();
      return pins.filter((pin) => insert.run(pin.customerId, pin.cellId, at).changes === 1).map((pin) => pin.customerId);
    })();
  }

  /** Moves a customer's mapping row only if it still points at `from`. Returns whether it moved. */
  moveCustomer(customerId: string, from: string, to: string): boolean {
    return this.db.prepare('UPDATE customers SET cell_id = ? WHERE id = ? AND cell_id = ?').run(to, customerId, from).changes === 1;
  }

  // --- events --------------------------------------------------------------------------------

  addEvent(source: string, kind: string, subject: string, message: string): void {
    this.db.prepare('INSERT INTO events (at, source, kind, subject, message) VALUES (?, ?, ?, ?, ?)').run(now(), source, kind, subject, message);
  }

  /** Events recorded after the one with id `afterId`, oldest first (for a watch). */
  eventsAfter(afterId: number, subject?: string): EventRecord[] {
    return (
      subject
        ? this.db.prepare('SELECT * FROM events WHERE id > ? AND subject = ? ORDER BY id LIMIT 1000').all(afterId, subject)
        : this.db.prepare('SELECT * FROM events WHERE id > ? ORDER BY id LIMIT 1000').all(afterId)
    ) as EventRecord[];
  }

  listEvents(options: { subject?: string; limit: number }): EventRecord[] {
    const rows = options.subject
      ? this.db.prepare('SELECT * FROM events WHERE subject = ? ORDER BY id DESC LIMIT ?').all(options.subject, options.limit)
      : this.db.prepare('SELECT * FROM events ORDER BY id DESC LIMIT ?').all(options.limit);
    return (rows as EventRecord[]).reverse();
  }

  // --- the migration journal -----------------------------------------------------------------

  /** Journals new running migrations owned by `owner`, all or none. */
  startMigrations(
    inputs: { customerId: string; sourceCell: string; targetCell: string; keepSourceUntil: string | null; batch: string | null; step: MigrationStep }[],
    owner: MigrationOwner,
    leaseMs: number,
  ): MigrationRecord[] {
    const insert = this.db.prepare(
      `INSERT INTO migrations (customer_id, source_cell, target_cell, step, state, keep_source_until, batch, started_at, updated_at,
                               owner, owner_pid, owner_host, owner_started, lease_until, fencing)
       VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    return this.db.transaction(() => {
      const fencing = this.nextFencing();
      return inputs.map((input) => {
        const at = now();
        try {
          const info = insert.run(
            input.customerId,
            input.sourceCell,
            input.targetCell,
            input.step,
            input.keepSourceUntil,
            input.batch,
            at,
            at,
            owner.token,
            owner.pid,
            owner.host,
            owner.started,
            Date.now() + leaseMs,
            fencing,
          );
          return this.getMigration(Number(info.lastInsertRowid))!;
        } catch (error) {
          if (!describeError(error).includes('UNIQUE constraint failed')) throw error;
          const running = this.runningMigrationFor(input.customerId);
          throw failure(
            `customer ${input.customerId} already has migration ${running?.id ?? '?'} running: "cellctl migrate show ${running?.id ?? '<id>'}" tells whether it is in progress or interrupted`,
            'E_MIGRATION_RUNNING',
          );
        }
      });
    })();
  }

  /** A fencing number higher than any handed out before (one per change of owner). */
  private nextFencing(): number {
    const row = this.db.prepare("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'fencing_seq' RETURNING value").get() as {
      value: string | number;
    };
    return Number(row.value);
  }

  /**
   * Records that `step` is complete, only while `owner` still owns every migration (compare-and-set;
   * throws OwnershipLost otherwise, changing nothing). Later steps may rely on this row alone.
   */
  recordMigrationStep(ids: readonly number[], owner: string, step: MigrationStep, detail?: Record<string, unknown>, leaseMs?: number): void {
    const lease = leaseMs === undefined ? null : Date.now() + leaseMs;
    const update = this.db.prepare(
      `UPDATE migrations SET step = ?, detail = json_patch(detail, ?), updated_at = ?, lease_until = COALESCE(?, lease_until)
       WHERE id = ? AND owner = ? AND state = 'running'`,
    );
    this.ownedWrite(ids, (id) => update.run(step, JSON.stringify(detail ?? {}), now(), lease, id, owner).changes);
  }

  /** Ends migrations (compare-and-set on the owner, like recordMigrationStep). */
  endMigrations(ids: readonly number[], owner: string, state: Exclude<MigrationState, 'running'>, error: string | null = null): void {
    const update = this.db.prepare("UPDATE migrations SET state = ?, error = ?, updated_at = ? WHERE id = ? AND owner = ? AND state = 'running'");
    this.ownedWrite(ids, (id) => update.run(state, error, now(), id, owner).changes);
  }

  /** Extends the owner's lease on running migrations; throws OwnershipLost if any is no longer its. */
  renewLease(ids: readonly number[], owner: string, leaseMs: number): void {
    const update = this.db.prepare("UPDATE migrations SET lease_until = ? WHERE id = ? AND owner = ? AND state = 'running'");
    this.ownedWrite(ids, (id) => update.run(Date.now() + leaseMs, id, owner).changes);
  }

  /**
   * Makes `owner` the owner of a running migration, only if it is still held as `seen` (same token
   * and lease: nobody took it or renewed it since it was judged abandoned). Returns whether it did.
   */
  takeOverMigration(id: number, seen: MigrationLease | null, owner: MigrationOwner, leaseMs: number): boolean {
    return this.db.transaction(
      () =>
        this.db
          .prepare(
            `UPDATE migrations SET owner = ?, owner_pid = ?, owner_host = ?, owner_started = ?, lease_until = ?, updated_at = ?, fencing = ?
             WHERE id = ? AND state = 'running' AND owner IS ? AND lease_until IS ?`,
          )
          .run(
            owner.token,
            owner.pid,
            owner.host,
            owner.started,
            Date.now() + leaseMs,
            now(),
            this.nextFencing(),
            id,
            seen?.token ?? null,
            seen?.leaseUntil ?? null,
          ).changes === 1,
    )();
  }

  /** A fencing number for work on a cell's rows outside any migration (purging kept sources). */
  newFencing(): number {
    return this.db.transaction(() => this.nextFencing())();
  }

  /** The last fencing number handed out (0: none yet). */
  fencingIssued(): number {
    return Number((this.db.prepare("SELECT value FROM meta WHERE key = 'fencing_seq'").get() as { value: string | number }).value);
  }

  /** Raises the sequence so that every number handed out from now on is above `past`; returns the last one issued. */
  advanceFencing(past: number): number {
    const row = this.db
      .prepare("UPDATE meta SET value = max(CAST(value AS INTEGER), ?) WHERE key = 'fencing_seq' RETURNING value")
      .get(Math.max(0, Math.floor(past))) as { value: string | number };
    return Number(row.value);
  }

  /** Marks a finished migration's kept source rows as purged (no owner: the migration is over). */
  recordKeptSourcePurged(id: number, detail: Record<string, unknown> = {}): void {
    this.db
      .prepare("UPDATE migrations SET step = 'purged', detail = json_patch(detail, ?), updated_at = ? WHERE id = ? AND state = 'done'")
      .run(JSON.stringify(detail), now(), id);
  }

  private ownedWrite(ids: readonly number[], write: (id: number) => number): void {
    this.db.transaction(() => {
      const lost = ids.filter((id) => write(id) !== 1);
      if (lost.length > 0) throw new OwnershipLost(lost);
    })();
  }

  getMigration(id: number): MigrationRecord | undefined {
    const row = this.db.prepare('SELECT * FROM migrations WHERE id = ?').get(id) as MigrationRow | undefined;
    return row && toMigration(row);
  }

  runningMigrationFor(customerId: string): MigrationRecord | undefined {
    const row = this.db.prepare("SELECT * FROM migrations WHERE customer_id = ? AND state = 'running'").get(customerId) as MigrationRow | undefined;
    return row && toMigration(row);
  }

  /** One customer's migrations, newest first. */
  migrationsOf(customerId: string, limit: number): MigrationRecord[] {
    return (this.db.prepare('SELECT * FROM migrations WHERE customer_id = ? ORDER BY id DESC LIMIT ?').all(customerId, limit) as MigrationRow[]).map(
      toMigration,
    );
  }

  /**
   * Removes a customer's mapping row, only while it still points at `cellId` and no migration of the
   * customer runs (checked in the same statement). Returns whether it was removed.
   */
  unmapCustomer(customerId: string, cellId: string): boolean {
    return (
      this.db
        .prepare(
          `DELETE FROM customers WHERE id = ? AND cell_id = ?
           AND NOT EXISTS (SELECT 1 FROM migrations WHERE customer_id = ? AND state = 'running')`,
        )
        .run(customerId, cellId, customerId).changes === 1
    );
  }

  listMigrations(options: { state?: MigrationState; limit: number }): MigrationRecord[] {
    const rows = options.state
      ? this.db.prepare('SELECT * FROM migrations WHERE state = ? ORDER BY id DESC LIMIT ?').all(options.state, options.limit)
      : this.db.prepare('SELECT * FROM migrations ORDER BY id DESC LIMIT ?').all(options.limit);
    return (rows as MigrationRow[]).map(toMigration).reverse();
  }

  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }
}

/** Every row of the control.db at `file`, read in one transaction (ControlStore.dump). */
export function readSqliteDump(file: string): ControlDump {
  const store = ControlStore.open(file, { readonly: true });
  try {
    return store.dump();
  } finally {
    store.close();
  }
}
