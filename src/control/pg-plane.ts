// The control plane in PostgreSQL: the same records and compare-and-set journal as control.db. This
// file answers the interface (plane.ts) over one connection pool (pg-connection.ts); the journal's
// writes (pg-journal.ts), the mapping watch (pg-watch.ts) and the copy in (pg-import.ts) are their own.
import { failure } from '../shared/errors.js';
import type { ControlDump } from './dump.js';
import { PgConnection, type PgPlaneOptions, type Queryable } from './pg-connection.js';
import { importDump, isEmpty } from './pg-import.js';
import { endOwned, insertMigrations, lockFencing, ownedWrite, recordStep } from './pg-journal.js';
import { MappingWatch } from './pg-watch.js';
import type { AbortAndReverse, ControlPlane, MappingRead, MappingRow, NewMigration, NewRouter, PlaneHealth, RouterRecord, SwitchCustomers } from './plane.js';
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
  mappingChangedMessage,
  type NewCell,
  type RouterRow,
  toCell,
  toCustomer,
  toMigration,
} from './records.js';

export { type PgPlaneOptions } from './pg-connection.js';
export { redactUrl, validatePgUrl } from './pg-url.js';

const now = (): string => new Date().toISOString();

export class PgControlPlane implements ControlPlane {
  readonly kind = 'postgres' as const;
  readonly where: string;
  private readonly watch: MappingWatch;

  private constructor(
    private readonly db: PgConnection,
    options: PgPlaneOptions,
  ) {
    this.where = db.where;
    this.watch = new MappingWatch(db, () => this.mappingVersion(), options.safetyPollMs ?? 1000);
  }

  /** Connects, and creates the schema if the database has none (safe when several processes start at once). */
  static async connect(url: string, options: PgPlaneOptions = {}): Promise<PgControlPlane> {
    return new PgControlPlane(await PgConnection.connect(url, options), options);
  }

  async close(): Promise<void> {
    this.watch.stop();
    await this.db.end();
  }

  async health(): Promise<PlaneHealth> {
    try {
      const version = await this.mappingVersion();
      return { ok: true, detail: `${this.where}: mapping version ${version}` };
    } catch (error) {
      return { ok: false, detail: this.db.explain(error).message };
    }
  }

  // --- cells ---
  async listCells(): Promise<CellRecord[]> {
    return (await this.db.query<CellRow>('SELECT * FROM cells ORDER BY id COLLATE "C"')).rows.map(toCell);
  }

  async getCell(id: string): Promise<CellRecord | undefined> {
    const row = (await this.db.query<CellRow>('SELECT * FROM cells WHERE id = $1', [id])).rows[0];
    return row && toCell(row);
  }

  async insertCell(cell: NewCell): Promise<CellRecord> {
    const createdAt = now();
    await this.db.mappingWrite(
      `INSERT INTO cells (id, template, template_dir, schema_version, port, capacity, health_path, status, created_at, url, data_url, data_port, managed)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $9, $10, $11, $12)`,
      [
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
        cell.managed,
      ],
    );
    return { ...cell, status: 'active', createdAt, firstHealthyAt: null };
  }

  async deleteCell(id: string): Promise<number> {
    return this.db.mappingTx(async (client) => {
      const removed = (await client.query('DELETE FROM customers WHERE cell_id = $1', [id])).rowCount ?? 0;
      await client.query('DELETE FROM cells WHERE id = $1', [id]);
      return removed;
    });
  }

  async markCellHealthy(id: string): Promise<void> {
    await this.db.mappingWrite('UPDATE cells SET first_healthy_at = $1 WHERE id = $2 AND first_healthy_at IS NULL', [now(), id]);
  }

  async setCellStatus(id: string, status: CellStatus): Promise<void> {
    await this.db.mappingWrite('UPDATE cells SET status = $1 WHERE id = $2', [status, id]);
  }

  async setCellAddress(id: string, url: string, dataUrl: string): Promise<boolean> {
    return (await this.db.mappingWrite('UPDATE cells SET url = $1, data_url = $2 WHERE id = $3', [url, dataUrl, id])) === 1;
  }

  async customerCounts(): Promise<Map<string, number>> {
    const rows = (await this.db.query<{ cell_id: string; n: number }>('SELECT cell_id, COUNT(*) AS n FROM customers GROUP BY cell_id')).rows;
    return new Map(rows.map((row) => [row.cell_id, row.n]));
  }

  // --- the mapping ---
  async mappingVersion(): Promise<number> {
    return Number((await this.db.query<{ value: string }>("SELECT value FROM meta WHERE key = 'mapping_version'")).rows[0]!.value);
  }

  async getCustomer(id: string): Promise<CustomerRecord | undefined> {
    const row = (await this.db.query<CustomerRow>('SELECT * FROM customers WHERE id = $1', [id])).rows[0];
    return row && toCustomer(row);
  }

  async listCustomers(cellId?: string): Promise<CustomerRecord[]> {
    const result = cellId
      ? await this.db.query<CustomerRow>('SELECT * FROM customers WHERE cell_id = $1 ORDER BY id COLLATE "C"', [cellId])
      : await this.db.query<CustomerRow>('SELECT * FROM customers ORDER BY id COLLATE "C"');
    return result.rows.map(toCustomer);
  }

  async customerIdsStartingWith(prefix: string, limit: number): Promise<string[]> {
    // Byte order, as SQLite's: the database's own collation may sort a prefix's ids apart.
    const result = await this.db.query<{ id: string }>('SELECT id FROM customers WHERE starts_with(id, $1) ORDER BY id COLLATE "C" LIMIT $2', [prefix, limit]);
    return result.rows.map((row) => row.id);
  }

  async customersChangedSince(rev: number): Promise<MappingRow[]> {
    return this.db.pooled((pool) => changedRows(pool, rev));
  }

  async customerCount(): Promise<number> {
    return (await this.db.query<{ n: number }>('SELECT COUNT(*) AS n FROM customers')).rows[0]!.n;
  }

  async readMapping(sinceRev: number): Promise<MappingRead> {
    return this.db.tx(async (client) => {
      const version = Number((await client.query<{ value: string }>("SELECT value FROM meta WHERE key = 'mapping_version'")).rows[0]!.value);
      const cells = (await client.query<CellRow>('SELECT * FROM cells ORDER BY id COLLATE "C"')).rows.map(toCell);
      const changed = await changedRows(client, sinceRev);
      const customerCount = (await client.query<{ n: number }>('SELECT COUNT(*) AS n FROM customers')).rows[0]!.n;
      return { version, cells, changed, customerCount };
    }, 'REPEATABLE READ READ ONLY');
  }

  async pinCustomers(pins: { customerId: string; cellId: string }[]): Promise<string[]> {
    if (pins.length === 0) return [];
    const pinned = await this.db.mappingTx(async (client) => {
      const at = now();
      const ids = new Set<string>();
      for (let start = 0; start < pins.length; start += 10_000) {
        const chunk = pins.slice(start, start + 10_000);
        const result = await client.query<{ id: string }>(
          // Rows that exist are left out before the insert, so their triggers do not bump the version for nothing.
          `INSERT INTO customers (id, cell_id, created_at) SELECT id, cell_id, $3 FROM unnest($1::text[], $2::text[]) AS pin(id, cell_id)
           WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = pin.id)
           ON CONFLICT (id) DO NOTHING RETURNING id`,
          [chunk.map((p) => p.customerId), chunk.map((p) => p.cellId), at],
        );
        for (const row of result.rows) ids.add(row.id);
      }
      return ids;
    });
    // In the order given, each id once (like control.db's one insert per pin).
    return pins.filter((pin) => pinned.delete(pin.customerId)).map((pin) => pin.customerId);
  }

  async moveCustomer(customerId: string, from: string, to: string): Promise<boolean> {
    return (await this.db.mappingWrite('UPDATE customers SET cell_id = $1 WHERE id = $2 AND cell_id = $3', [to, customerId, from])) === 1;
  }

  async unmapCustomer(customerId: string, cellId: string): Promise<boolean> {
    const removed = await this.db.mappingWrite(
      `DELETE FROM customers WHERE id = $1 AND cell_id = $2
       AND NOT EXISTS (SELECT 1 FROM migrations WHERE customer_id = $1 AND state = 'running')`,
      [customerId, cellId],
    );
    return removed === 1;
  }

  watchMapping(onChange: (version: number) => void, sinceVersion?: number): () => void {
    return this.watch.subscribe(onChange, sinceVersion);
  }

  // --- events ---
  async addEvent(source: string, kind: string, subject: string, message: string): Promise<void> {
    await this.db.query('INSERT INTO events (at, source, kind, subject, message) VALUES ($1, $2, $3, $4, $5)', [now(), source, kind, subject, message]);
  }

  async eventsAfter(afterId: number, subject?: string): Promise<EventRecord[]> {
    const result = subject
      ? await this.db.query<EventRecord>('SELECT * FROM events WHERE id > $1 AND subject = $2 ORDER BY id LIMIT 1000', [afterId, subject])
      : await this.db.query<EventRecord>('SELECT * FROM events WHERE id > $1 ORDER BY id LIMIT 1000', [afterId]);
    return result.rows;
  }

  async listEvents(options: { subject?: string; limit: number }): Promise<EventRecord[]> {
    const result = options.subject
      ? await this.db.query<EventRecord>('SELECT * FROM events WHERE subject = $1 ORDER BY id DESC LIMIT $2', [options.subject, options.limit])
      : await this.db.query<EventRecord>('SELECT * FROM events ORDER BY id DESC LIMIT $1', [options.limit]);
    return result.rows.reverse();
  }

  // --- the migration journal ---
  async startMigrations(inputs: readonly NewMigration[], owner: MigrationOwner, leaseMs: number): Promise<MigrationRecord[]> {
    try {
      return await this.db.tx((client) => insertMigrations(client, inputs, owner, leaseMs));
    } catch (error) {
      throw await this.runningRefusal(error);
    }
  }

  /** A unique-index refusal told the way control.db tells it (the other error otherwise). */
  private async runningRefusal(error: unknown): Promise<unknown> {
    const duplicate = (error as { code?: unknown }).code === '23505' && /one_running_migration_per_customer/.test(String((error as Error).message));
    const customer = (error as { customerId?: string }).customerId;
    if (!duplicate || !customer) return error;
    const running = await this.runningMigrationFor(customer).catch(() => undefined);
    return failure(
      `customer ${customer} already has migration ${running?.id ?? '?'} running: "cellctl migrate show ${running?.id ?? '<id>'}" tells whether it is in progress or interrupted`,
      'E_MIGRATION_RUNNING',
    );
  }

  async recordMigrationStep(ids: readonly number[], owner: string, step: MigrationStep, detail?: Record<string, unknown>, leaseMs?: number): Promise<void> {
    await this.db.pooled((pool) => recordStep(pool, ids, owner, step, detail, leaseMs));
  }

  async endMigrations(ids: readonly number[], owner: string, state: Exclude<MigrationState, 'running'>, error: string | null = null): Promise<void> {
    await this.db.pooled((pool) => endOwned(pool, ids, owner, state, error));
  }

  async renewLease(ids: readonly number[], owner: string, leaseMs: number): Promise<void> {
    await this.db.pooled((pool) => ownedWrite(pool, ids, owner, 'lease_until = $3', [Date.now() + leaseMs]));
  }

  async takeOverMigration(id: number, seen: MigrationLease | null, owner: MigrationOwner, leaseMs: number): Promise<boolean> {
    const result = await this.db.tx(async (client) => {
      await lockFencing(client);
      return client.query(
        `UPDATE migrations SET owner = $1, owner_pid = $2, owner_host = $3, owner_started = $4, lease_until = $5, updated_at = $6,
         fencing = nextval('fencing_seq')
       WHERE id = $7 AND state = 'running' AND owner IS NOT DISTINCT FROM $8 AND lease_until IS NOT DISTINCT FROM $9::bigint`,
        [owner.token, owner.pid, owner.host, owner.started, Date.now() + leaseMs, now(), id, seen?.token ?? null, seen?.leaseUntil ?? null],
      );
    });
    return (result.rowCount ?? 0) === 1;
  }

  async newFencing(): Promise<number> {
    return this.db.tx(async (client) => {
      await lockFencing(client);
      return Number((await client.query<{ n: number }>("SELECT nextval('fencing_seq') AS n")).rows[0]!.n);
    });
  }

  async fencingIssued(): Promise<number> {
    const row = (await this.db.query<{ last_value: string | number; is_called: boolean }>('SELECT last_value, is_called FROM fencing_seq')).rows[0]!;
    return row.is_called ? Number(row.last_value) : 0;
  }

  async advanceFencing(past: number): Promise<number> {
    const wanted = Math.floor(past);
    // setval marks the value as issued; a sequence never moves back (nor below its first value, 1).
    if (wanted >= 1)
      await this.db.tx(async (client) => {
        await lockFencing(client);
        await client.query("SELECT setval('fencing_seq', GREATEST($1::bigint, (SELECT last_value FROM fencing_seq)))", [wanted]);
      });
    return this.fencingIssued();
  }

  async recordKeptSourcePurged(id: number, detail: Record<string, unknown> = {}): Promise<void> {
    await this.db.query("UPDATE migrations SET step = 'purged', detail = merge_patch(detail, $1::jsonb), updated_at = $2 WHERE id = $3 AND state = 'done'", [
      JSON.stringify(detail),
      now(),
      id,
    ]);
  }

  async switchCustomers(input: SwitchCustomers): Promise<void> {
    await this.db.mappingTx(async (client) => {
      input.precheck?.();
      await recordStep(client, input.ids, input.owner, 'switched', input.detail, input.leaseMs);
      for (const move of input.moves) {
        const moved = await client.query('UPDATE customers SET cell_id = $1 WHERE id = $2 AND cell_id = $3', [move.to, move.customerId, move.from]);
        if (moved.rowCount !== 1) throw failure(mappingChangedMessage(move.customerId), 'E_MAPPING_CHANGED');
      }
    });
  }

  async abortAndReverse(input: AbortAndReverse): Promise<MigrationRecord[]> {
    try {
      return await this.db.tx(async (client) => {
        await endOwned(client, input.ids, input.owner.token, 'aborted', input.error);
        return insertMigrations(client, input.reverse, input.owner, input.leaseMs);
      });
    } catch (error) {
      throw await this.runningRefusal(error);
    }
  }

  async getMigration(id: number): Promise<MigrationRecord | undefined> {
    const row = (await this.db.query<MigrationRow>('SELECT * FROM migrations WHERE id = $1', [id])).rows[0];
    return row && toMigration(row);
  }

  async runningMigrationFor(customerId: string): Promise<MigrationRecord | undefined> {
    const row = (await this.db.query<MigrationRow>("SELECT * FROM migrations WHERE customer_id = $1 AND state = 'running'", [customerId])).rows[0];
    return row && toMigration(row);
  }

  async migrationsOf(customerId: string, limit: number): Promise<MigrationRecord[]> {
    return (await this.db.query<MigrationRow>('SELECT * FROM migrations WHERE customer_id = $1 ORDER BY id DESC LIMIT $2', [customerId, limit])).rows.map(
      toMigration,
    );
  }

  async listMigrations(options: { state?: MigrationState; limit: number }): Promise<MigrationRecord[]> {
    const result = options.state
      ? await this.db.query<MigrationRow>('SELECT * FROM migrations WHERE state = $1 ORDER BY id DESC LIMIT $2', [options.state, options.limit])
      : await this.db.query<MigrationRow>('SELECT * FROM migrations ORDER BY id DESC LIMIT $1', [options.limit]);
    return result.rows.map(toMigration).reverse();
  }

  // --- routers (heartbeats by the database's clock, so hosts whose clocks disagree still agree on age) ---
  async registerRouter(router: NewRouter): Promise<void> {
    await this.db.query(
      `INSERT INTO routers (id, admin_url, public_url, pid, host, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6, now())
       ON CONFLICT (id) DO UPDATE SET admin_url = excluded.admin_url, public_url = excluded.public_url, pid = excluded.pid,
         host = excluded.host, started_at = excluded.started_at, heartbeat_at = now()`,
      [router.id, router.adminUrl, router.publicUrl, router.pid, router.host, router.startedAt],
    );
  }

  async heartbeatRouter(id: string): Promise<boolean> {
    return ((await this.db.query('UPDATE routers SET heartbeat_at = now() WHERE id = $1', [id])).rowCount ?? 0) === 1;
  }

  async listRouters(staleAfterMs: number): Promise<RouterRecord[]> {
    const rows = (
      await this.db.query<PgRouterRow>(
        `SELECT id, admin_url, public_url, pid, host, started_at, heartbeat_at,
           GREATEST(0, (EXTRACT(EPOCH FROM (clock_timestamp() - heartbeat_at)) * 1000))::bigint AS age_ms
         FROM routers ORDER BY id COLLATE "C"`,
      )
    ).rows;
    return rows.map((row) => ({
      id: row.id,
      adminUrl: row.admin_url,
      publicUrl: row.public_url,
      pid: row.pid,
      host: row.host,
      startedAt: row.started_at,
      heartbeatAt: row.heartbeat_at.toISOString(),
      heartbeatAgeMs: row.age_ms,
      live: row.age_ms <= staleAfterMs,
    }));
  }

  async deregisterRouter(id: string): Promise<void> {
    await this.db.query('DELETE FROM routers WHERE id = $1', [id]);
  }

  async readShared(name: string): Promise<string | null> {
    return (await this.db.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [`shared.${name}`])).rows[0]?.value ?? null;
  }

  async writeShared(name: string, value: string): Promise<void> {
    await this.db.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value', [`shared.${name}`, value]);
  }

  // --- copying a whole control plane in (control migrate-to) ---

  async isEmpty(): Promise<boolean> {
    return isEmpty(this.db);
  }

  async importDump<T>(dump: ControlDump, verify: (copied: ControlDump) => T): Promise<T> {
    return importDump(this.db, dump, verify);
  }
}

/**
 * Mapping rows changed after `rev`. A router loads up to millions of them: one tab-separated text
 * value parses about twice as fast as as many result rows. Ids holding a tab or a line break
 * (which customer ids never do) come apart, as JSON.
 */
async function changedRows(client: Queryable, rev: number): Promise<MappingRow[]> {
  const plain = "strpos(id, E'\\t') = 0 AND strpos(id, E'\\n') = 0 AND strpos(cell_id, E'\\t') = 0 AND strpos(cell_id, E'\\n') = 0";
  const result = await client.query<{ text: string | null; odd: [string, string, number][] | null }>(
    `SELECT string_agg(id || E'\\t' || cell_id || E'\\t' || rev, E'\\n') FILTER (WHERE ${plain}) AS text,
            json_agg(json_build_array(id, cell_id, rev)) FILTER (WHERE NOT (${plain})) AS odd
     FROM customers WHERE rev > $1`,
    [rev],
  );
  const { text, odd } = result.rows[0]!;
  const rows: MappingRow[] = [];
  if (text) {
    for (const line of text.split('\n')) {
      const first = line.indexOf('\t');
      const second = line.indexOf('\t', first + 1);
      rows.push({ id: line.slice(0, first), cellId: line.slice(first + 1, second), rev: Number(line.slice(second + 1)) });
    }
  }
  for (const [id, cellId, changedRev] of odd ?? []) rows.push({ id, cellId, rev: changedRev });
  return rows;
}

// --- rows → records ---

/** A routers row as PostgreSQL returns it: the heartbeat a timestamp, its age by the database's clock. */
interface PgRouterRow extends Omit<RouterRow, 'heartbeat_at'> {
  heartbeat_at: Date;
  age_ms: number;
}
