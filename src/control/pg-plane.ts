// The control plane in PostgreSQL: the same records and compare-and-set journal as control.db, over a
// pool of `pg` connections, with mapping changes pushed by LISTEN/NOTIFY (and a version poll as the net).
import pg from 'pg';
import { failure } from '../shared/errors.js';
import { type ControlDump, DUMP_TABLES, type DumpRow, type DumpTable, canonicalRow } from './dump.js';
import type { AbortAndReverse, ControlPlane, MappingRead, MappingRow, NewMigration, NewRouter, PlaneHealth, RouterRecord, SwitchCustomers } from './plane.js';
import { mappingChangedMessage } from './plane.js';
import { FENCING_LOCK, IMPORT_LOCK, MAPPING_CHANNEL, PG_CONTROL_SCHEMA, PG_SCHEMA, PG_SCHEMA_VERSION, SCHEMA_LOCK } from './pg-schema.js';
import {
  OwnershipLost,
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
  type CellRow,
  type CustomerRow,
  type MigrationRow,
  toCell,
  toCustomer,
  toMigration,
} from './store.js';

/** The URL with its password (in the authority or a `password` parameter) replaced, safe for any message or log. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(a connection string that is not a URL)';
  }
  if (parsed.password) parsed.password = '***';
  if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
  return parsed.toString();
}

/** Every spelling of the URL's password, so a message that quotes it can be cleaned. */
function passwordsIn(url: string): string[] {
  try {
    const parsed = new URL(url);
    const found = [parsed.password, parsed.searchParams.get('password') ?? ''].filter((p) => p.length > 0);
    return [...new Set(found.flatMap((p) => [p, safeDecode(p), encodeURIComponent(safeDecode(p))]))];
  } catch {
    return [];
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Checks a control URL's shape before any connection; the error names the URL without its password. */
export function validatePgUrl(url: string): void {
  const fix = 'write it as postgres://user:password@host:5432/database';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw failure(`the control URL ${redactUrl(url)} cannot be read: ${fix}`, 'E_CONTROL_URL');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw failure(`the control URL ${redactUrl(url)} is not a PostgreSQL URL (postgres://…): ${fix}`, 'E_CONTROL_URL');
  }
  if (!parsed.hostname && !parsed.searchParams.get('host')) throw failure(`the control URL ${redactUrl(url)} names no host: ${fix}`, 'E_CONTROL_URL');
  if (parsed.pathname.length <= 1) throw failure(`the control URL ${redactUrl(url)} names no database: ${fix}`, 'E_CONTROL_URL');
}

export interface PgPlaneOptions {
  /** Connections in the pool (the listener has one more of its own). */
  poolSize?: number;
  connectTimeoutMs?: number;
  /** How often the mapping version is read beside the notifications, in case one was missed. */
  safetyPollMs?: number;
  /** The longest any statement may run. */
  statementTimeoutMs?: number;
}

// bigint columns (ids, revisions, leases, counts) are safe integers here: read them as numbers.
const TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

interface Watcher {
  onChange: (version: number) => void;
  seen: number | undefined;
}

type Client = pg.PoolClient;

const now = (): string => new Date().toISOString();

/** Whether the connection failed (not the statement): SQLSTATE classes 08/57P/53, socket errors, pool timeouts. */
const isConnectionError = (error: unknown): boolean => {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return /^(08|57P|53)/.test(code) || /^E[A-Z_]+$/.test(code);
  return /connection terminated|timeout exceeded when trying to connect|Connection terminated|not queryable/i.test(error instanceof Error ? error.message : '');
};

/** A SQLSTATE: the database refused the statement itself (a constraint, a timeout). */
const isStatementError = (error: unknown): boolean => {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
};

const LOCK_MAPPING = "SELECT 1 FROM meta WHERE key = 'mapping_version' FOR UPDATE";

/** Errors already cleaned and named (a transaction's error passes through twice). */
const explained = new WeakSet<Error>();

/** PostgreSQL's answers to a login it refuses (SQLSTATE), with what to fix in the URL. */
const LOGIN_REFUSED: Record<string, string> = {
  '28P01': 'check the user and password in the URL',
  '28000': "check the user in the URL, and that the server's pg_hba.conf lets it in from here",
  '3D000': 'the database in the URL does not exist: create it (createdb), or name one that does',
};

export class PgControlPlane implements ControlPlane {
  readonly kind = 'postgres' as const;
  readonly where: string;
  private readonly pool: pg.Pool;
  private readonly secrets: string[];
  private readonly watchers = new Set<Watcher>();
  private listener: pg.Client | null = null;
  private safetyTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(
    private readonly url: string,
    private readonly options: PgPlaneOptions,
  ) {
    this.where = redactUrl(url);
    this.secrets = passwordsIn(url);
    this.pool = new pg.Pool({ ...this.clientConfig(), max: options.poolSize ?? 5, idleTimeoutMillis: 30_000 });
    // A pooled connection that breaks while idle is dropped and replaced on next use; without a
    // listener the error would end the process.
    this.pool.on('error', () => undefined);
  }

  /** Connects, and creates the schema if the database has none (safe when several processes start at once). */
  static async connect(url: string, options: PgPlaneOptions = {}): Promise<PgControlPlane> {
    validatePgUrl(url);
    const plane = new PgControlPlane(url, options);
    try {
      await plane.ensureSchema();
    } catch (error) {
      await plane.pool.end().catch(() => undefined);
      throw plane.explain(error);
    }
    return plane;
  }

  private clientConfig(): pg.ClientConfig {
    return {
      connectionString: this.url,
      connectionTimeoutMillis: this.options.connectTimeoutMs ?? 5000,
      statement_timeout: this.options.statementTimeoutMs ?? 30_000,
      application_name: 'cellctl',
      options: `-c search_path=${PG_SCHEMA}`,
      types: TYPES,
    };
  }

  /** The message of any error, with the password cleaned out and the store named; connection failures become a clear failure. */
  private explain(error: unknown): Error {
    if (!(error instanceof Error)) return new Error(this.scrub(String(error)));
    if (explained.has(error)) return error;
    const result = this.explainOnce(error);
    explained.add(result);
    return result;
  }

  private explainOnce(error: Error): Error {
    if (error.name === 'CellctlError' || error instanceof OwnershipLost) return this.scrubbed(error);
    const message = this.scrub(error.message);
    if (isConnectionError(error)) {
      return failure(
        `the control plane at ${this.where} is unreachable (${message}): check that PostgreSQL runs and the URL is right`,
        'E_CONTROL_UNAVAILABLE',
      );
    }
    const refusal = LOGIN_REFUSED[String((error as { code?: unknown }).code)];
    if (refusal) return failure(`the control plane at ${this.where} refused the connection (${message}): ${refusal}`, 'E_CONTROL_UNAVAILABLE');
    if (!isStatementError(error)) return this.scrubbed(error);
    const wrapped = new Error(`control plane ${this.where}: ${message}`);
    Object.assign(wrapped, { code: (error as { code?: unknown }).code, customerId: (error as { customerId?: unknown }).customerId });
    return wrapped;
  }

  private scrubbed(error: Error): Error {
    error.message = this.scrub(error.message);
    if (error.stack) error.stack = this.scrub(error.stack);
    return error;
  }

  private scrub(text: string): string {
    let out = text.split(this.url).join(this.where);
    for (const secret of this.secrets) out = out.split(secret).join('***');
    return out;
  }

  private async ensureSchema(): Promise<void> {
    await this.tx(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
      const found = await client.query<{ meta: string | null }>(`SELECT to_regclass('${PG_SCHEMA}.meta')::text AS meta`);
      if (found.rows[0]?.meta) {
        const version = await client.query<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'");
        const have = Number(version.rows[0]?.value ?? NaN);
        if (have !== PG_SCHEMA_VERSION) {
          throw failure(
            `the control plane at ${this.where} has schema version ${version.rows[0]?.value ?? 'none'}, this cellctl reads version ${PG_SCHEMA_VERSION}: use the cellctl release that made it`,
            'E_CONTROL_SCHEMA',
          );
        }
        return;
      }
      await client.query(PG_CONTROL_SCHEMA);
      await client.query("INSERT INTO meta (key, value) VALUES ('schema_version', $1)", [String(PG_SCHEMA_VERSION)]);
    });
  }

  private async query<R extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, params);
    } catch (error) {
      throw this.explain(error);
    }
  }

  /** Runs `work` in one transaction: committed if it returns, rolled back (changing nothing) if it throws. */
  private async tx<T>(work: (client: Client) => Promise<T>, isolation = 'READ COMMITTED'): Promise<T> {
    let client: Client;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.explain(error);
    }
    let broken = false;
    // A checked-out client has no pool listener for 'error': a server that goes away between two of
    // this transaction's statements would otherwise crash the process (the next statement fails anyway).
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw this.explain(error);
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  /**
   * A transaction that changes the mapping or the cells. It takes the mapping version's row lock
   * first, before any row of cells or customers: every such writer then locks in one order, and
   * two of them over the same rows wait for each other instead of deadlocking.
   */
  private mappingTx<T>(work: (client: Client) => Promise<T>): Promise<T> {
    return this.tx(async (client) => {
      await client.query(LOCK_MAPPING);
      return work(client);
    });
  }

  private async mappingWrite(text: string, params: unknown[]): Promise<number> {
    return this.mappingTx(async (client) => (await client.query(text, params)).rowCount ?? 0);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopWatching();
    await this.pool.end().catch(() => undefined);
  }

  async health(): Promise<PlaneHealth> {
    try {
      const version = await this.mappingVersion();
      return { ok: true, detail: `${this.where}: mapping version ${version}` };
    } catch (error) {
      return { ok: false, detail: this.explain(error).message };
    }
  }

  // --- cells ---
  async listCells(): Promise<CellRecord[]> {
    return (await this.query<CellRow>('SELECT * FROM cells ORDER BY id COLLATE "C"')).rows.map(toCell);
  }

  async getCell(id: string): Promise<CellRecord | undefined> {
    const row = (await this.query<CellRow>('SELECT * FROM cells WHERE id = $1', [id])).rows[0];
    return row && toCell(row);
  }

  async insertCell(cell: NewCell): Promise<CellRecord> {
    const createdAt = now();
    await this.mappingWrite(
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
    return this.mappingTx(async (client) => {
      const removed = (await client.query('DELETE FROM customers WHERE cell_id = $1', [id])).rowCount ?? 0;
      await client.query('DELETE FROM cells WHERE id = $1', [id]);
      return removed;
    });
  }

  async markCellHealthy(id: string): Promise<void> {
    await this.mappingWrite('UPDATE cells SET first_healthy_at = $1 WHERE id = $2 AND first_healthy_at IS NULL', [now(), id]);
  }

  async setCellStatus(id: string, status: CellStatus): Promise<void> {
    await this.mappingWrite('UPDATE cells SET status = $1 WHERE id = $2', [status, id]);
  }

  async setCellAddress(id: string, url: string, dataUrl: string): Promise<boolean> {
    return (await this.mappingWrite('UPDATE cells SET url = $1, data_url = $2 WHERE id = $3', [url, dataUrl, id])) === 1;
  }

  async customerCounts(): Promise<Map<string, number>> {
    const rows = (await this.query<{ cell_id: string; n: number }>('SELECT cell_id, COUNT(*) AS n FROM customers GROUP BY cell_id')).rows;
    return new Map(rows.map((row) => [row.cell_id, row.n]));
  }

  // --- the mapping ---
  async mappingVersion(): Promise<number> {
    return Number((await this.query<{ value: string }>("SELECT value FROM meta WHERE key = 'mapping_version'")).rows[0]!.value);
  }

  async getCustomer(id: string): Promise<CustomerRecord | undefined> {
    const row = (await this.query<CustomerRow>('SELECT * FROM customers WHERE id = $1', [id])).rows[0];
    return row && toCustomer(row);
  }

  async listCustomers(cellId?: string): Promise<CustomerRecord[]> {
    const result = cellId
      ? await this.query<CustomerRow>('SELECT * FROM customers WHERE cell_id = $1 ORDER BY id COLLATE "C"', [cellId])
      : await this.query<CustomerRow>('SELECT * FROM customers ORDER BY id COLLATE "C"');
    return result.rows.map(toCustomer);
  }

  async customerIdsStartingWith(prefix: string, limit: number): Promise<string[]> {
    // Byte order, as SQLite's: the database's own collation may sort a prefix's ids apart.
    const result = await this.query<{ id: string }>('SELECT id FROM customers WHERE starts_with(id, $1) ORDER BY id COLLATE "C" LIMIT $2', [prefix, limit]);
    return result.rows.map((row) => row.id);
  }

  async customersChangedSince(rev: number): Promise<MappingRow[]> {
    try {
      return await changedRows(this.pool, rev);
    } catch (error) {
      throw this.explain(error);
    }
  }

  async customerCount(): Promise<number> {
    return (await this.query<{ n: number }>('SELECT COUNT(*) AS n FROM customers')).rows[0]!.n;
  }

  async readMapping(sinceRev: number): Promise<MappingRead> {
    return this.tx(async (client) => {
      const version = Number((await client.query<{ value: string }>("SELECT value FROM meta WHERE key = 'mapping_version'")).rows[0]!.value);
      const cells = (await client.query<CellRow>('SELECT * FROM cells ORDER BY id COLLATE "C"')).rows.map(toCell);
      const changed = await changedRows(client, sinceRev);
      const customerCount = (await client.query<{ n: number }>('SELECT COUNT(*) AS n FROM customers')).rows[0]!.n;
      return { version, cells, changed, customerCount };
    }, 'REPEATABLE READ READ ONLY');
  }

  async pinCustomers(pins: { customerId: string; cellId: string }[]): Promise<string[]> {
    if (pins.length === 0) return [];
    const pinned = await this.mappingTx(async (client) => {
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
    return (await this.mappingWrite('UPDATE customers SET cell_id = $1 WHERE id = $2 AND cell_id = $3', [to, customerId, from])) === 1;
  }

  async unmapCustomer(customerId: string, cellId: string): Promise<boolean> {
    const removed = await this.mappingWrite(
      `DELETE FROM customers WHERE id = $1 AND cell_id = $2
       AND NOT EXISTS (SELECT 1 FROM migrations WHERE customer_id = $1 AND state = 'running')`,
      [customerId, cellId],
    );
    return removed === 1;
  }

  watchMapping(onChange: (version: number) => void, sinceVersion?: number): () => void {
    const watcher: Watcher = { onChange, seen: sinceVersion };
    this.watchers.add(watcher);
    if (this.watchers.size === 1) this.startWatching();
    else void this.checkVersion();
    return () => {
      this.watchers.delete(watcher);
      if (this.watchers.size === 0) this.stopWatching();
    };
  }

  private startWatching(): void {
    void this.listen();
    this.safetyTimer = setInterval(() => void this.checkVersion(), this.options.safetyPollMs ?? 1000);
    this.safetyTimer.unref();
  }

  private stopWatching(): void {
    if (this.safetyTimer) clearInterval(this.safetyTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.safetyTimer = null;
    this.retryTimer = null;
    const listener = this.listener;
    this.listener = null;
    void listener?.end().catch(() => undefined);
  }

  /** One connection of its own LISTENs; when it breaks, another replaces it and the version is checked for what was missed. */
  private async listen(): Promise<void> {
    const client = new pg.Client(this.clientConfig());
    this.listener = client;
    const relisten = (): void => {
      if (this.listener !== client) return;
      this.listener = null;
      void client.end().catch(() => undefined);
      if (this.closed || this.watchers.size === 0) return;
      this.retryTimer = setTimeout(() => void this.listen(), 500);
      this.retryTimer.unref();
    };
    client.on('error', relisten);
    client.on('end', relisten);
    client.on('notification', (message) => {
      if (message.channel === MAPPING_CHANNEL && message.payload) this.deliver(Number(message.payload));
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${MAPPING_CHANNEL}`);
      await this.checkVersion();
    } catch {
      relisten();
    }
  }

  private async checkVersion(): Promise<void> {
    try {
      this.deliver(await this.mappingVersion());
    } catch {
      // unreachable for now: the listener's reconnect or the next poll tries again
    }
  }

  private deliver(version: number): void {
    for (const watcher of this.watchers) {
      if (watcher.seen === undefined) watcher.seen = version;
      else if (version > watcher.seen) {
        watcher.seen = version;
        try {
          watcher.onChange(version);
        } catch {
          // a subscriber's failure is its own
        }
      }
    }
  }

  // --- events ---
  async addEvent(source: string, kind: string, subject: string, message: string): Promise<void> {
    await this.query('INSERT INTO events (at, source, kind, subject, message) VALUES ($1, $2, $3, $4, $5)', [now(), source, kind, subject, message]);
  }

  async eventsAfter(afterId: number, subject?: string): Promise<EventRecord[]> {
    const result = subject
      ? await this.query<EventRecord>('SELECT * FROM events WHERE id > $1 AND subject = $2 ORDER BY id LIMIT 1000', [afterId, subject])
      : await this.query<EventRecord>('SELECT * FROM events WHERE id > $1 ORDER BY id LIMIT 1000', [afterId]);
    return result.rows;
  }

  async listEvents(options: { subject?: string; limit: number }): Promise<EventRecord[]> {
    const result = options.subject
      ? await this.query<EventRecord>('SELECT * FROM events WHERE subject = $1 ORDER BY id DESC LIMIT $2', [options.subject, options.limit])
      : await this.query<EventRecord>('SELECT * FROM events ORDER BY id DESC LIMIT $1', [options.limit]);
    return result.rows.reverse();
  }

  // --- the migration journal ---
  async startMigrations(inputs: readonly NewMigration[], owner: MigrationOwner, leaseMs: number): Promise<MigrationRecord[]> {
    try {
      return await this.tx((client) => insertMigrations(client, inputs, owner, leaseMs));
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
    await this.tx((client) => recordStep(client, ids, owner, step, detail, leaseMs));
  }

  async endMigrations(ids: readonly number[], owner: string, state: Exclude<MigrationState, 'running'>, error: string | null = null): Promise<void> {
    await this.tx((client) => endOwned(client, ids, owner, state, error));
  }

  async renewLease(ids: readonly number[], owner: string, leaseMs: number): Promise<void> {
    await this.tx((client) =>
      ownedWrite(client, ids, owner, "UPDATE migrations SET lease_until = $3 WHERE id = ANY($1) AND owner = $2 AND state = 'running' RETURNING id", [
        Date.now() + leaseMs,
      ]),
    );
  }

  async takeOverMigration(id: number, seen: MigrationLease | null, owner: MigrationOwner, leaseMs: number): Promise<boolean> {
    const result = await this.tx(async (client) => {
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
    return this.tx(async (client) => {
      await lockFencing(client);
      return Number((await client.query<{ n: number }>("SELECT nextval('fencing_seq') AS n")).rows[0]!.n);
    });
  }

  async fencingIssued(): Promise<number> {
    const row = (await this.query<{ last_value: string | number; is_called: boolean }>('SELECT last_value, is_called FROM fencing_seq')).rows[0]!;
    return row.is_called ? Number(row.last_value) : 0;
  }

  async advanceFencing(past: number): Promise<number> {
    const wanted = Math.floor(past);
    // setval marks the value as issued; a sequence never moves back (nor below its first value, 1).
    if (wanted >= 1)
      await this.tx(async (client) => {
        await lockFencing(client);
        await client.query("SELECT setval('fencing_seq', GREATEST($1::bigint, (SELECT last_value FROM fencing_seq)))", [wanted]);
      });
    return this.fencingIssued();
  }

  async recordKeptSourcePurged(id: number, detail: Record<string, unknown> = {}): Promise<void> {
    await this.query("UPDATE migrations SET step = 'purged', detail = merge_patch(detail, $1::jsonb), updated_at = $2 WHERE id = $3 AND state = 'done'", [
      JSON.stringify(detail),
      now(),
      id,
    ]);
  }

  async switchCustomers(input: SwitchCustomers): Promise<void> {
    await this.mappingTx(async (client) => {
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
      return await this.tx(async (client) => {
        await endOwned(client, input.ids, input.owner.token, 'aborted', input.error);
        return insertMigrations(client, input.reverse, input.owner, input.leaseMs);
      });
    } catch (error) {
      throw await this.runningRefusal(error);
    }
  }

  async getMigration(id: number): Promise<MigrationRecord | undefined> {
    const row = (await this.query<MigrationRow>('SELECT * FROM migrations WHERE id = $1', [id])).rows[0];
    return row && toMigration(row);
  }

  async runningMigrationFor(customerId: string): Promise<MigrationRecord | undefined> {
    const row = (await this.query<MigrationRow>("SELECT * FROM migrations WHERE customer_id = $1 AND state = 'running'", [customerId])).rows[0];
    return row && toMigration(row);
  }

  async migrationsOf(customerId: string, limit: number): Promise<MigrationRecord[]> {
    return (await this.query<MigrationRow>('SELECT * FROM migrations WHERE customer_id = $1 ORDER BY id DESC LIMIT $2', [customerId, limit])).rows.map(
      toMigration,
    );
  }

  async listMigrations(options: { state?: MigrationState; limit: number }): Promise<MigrationRecord[]> {
    const result = options.state
      ? await this.query<MigrationRow>('SELECT * FROM migrations WHERE state = $1 ORDER BY id DESC LIMIT $2', [options.state, options.limit])
      : await this.query<MigrationRow>('SELECT * FROM migrations ORDER BY id DESC LIMIT $1', [options.limit]);
    return result.rows.map(toMigration).reverse();
  }

  // --- routers (heartbeats by the database's clock, so hosts whose clocks disagree still agree on age) ---
  async registerRouter(router: NewRouter): Promise<void> {
    await this.query(
      `INSERT INTO routers (id, admin_url, public_url, pid, host, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6, now())
       ON CONFLICT (id) DO UPDATE SET admin_url = excluded.admin_url, public_url = excluded.public_url, pid = excluded.pid,
         host = excluded.host, started_at = excluded.started_at, heartbeat_at = now()`,
      [router.id, router.adminUrl, router.publicUrl, router.pid, router.host, router.startedAt],
    );
  }

  async heartbeatRouter(id: string): Promise<boolean> {
    return ((await this.query('UPDATE routers SET heartbeat_at = now() WHERE id = $1', [id])).rowCount ?? 0) === 1;
  }

  async listRouters(staleAfterMs: number): Promise<RouterRecord[]> {
    const rows = (
      await this.query<RouterRow>(
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
    await this.query('DELETE FROM routers WHERE id = $1', [id]);
  }

  async readShared(name: string): Promise<string | null> {
    return (await this.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [`shared.${name}`])).rows[0]?.value ?? null;
  }

  async writeShared(name: string, value: string): Promise<void> {
    await this.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value', [`shared.${name}`, value]);
  }

  // --- copying a whole control plane in (control migrate-to) ---

  /** Whether the plane holds nothing yet: no cells, customers, migrations or events, mapping version 0. */
  async isEmpty(): Promise<boolean> {
    return this.tx((client) => emptyIn(client));
  }

  /**
   * Writes every row of `dump` into this (empty) plane and reads them back for `verify`, all in one
   * transaction: a refusal or a failed verification leaves the plane as empty as it was.
   */
  async importDump<T>(dump: ControlDump, verify: (copied: ControlDump) => T): Promise<T> {
    return this.tx(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [IMPORT_LOCK]);
      if (!(await emptyIn(client)))
        throw failure(`the control plane at ${this.where} is not empty: migrate-to copies only into an empty one`, 'E_CONTROL_NOT_EMPTY');
      await client.query("SELECT set_config('cellctl.importing', 'on', true)");
      for (const table of Object.keys(DUMP_TABLES) as DumpTable[]) await importTable(client, table, dump.tables[table]);
      for (const table of ['migrations', 'events']) {
        await client.query(
          `SELECT setval(pg_get_serial_sequence('${PG_SCHEMA}.${table}', 'id'), GREATEST((SELECT MAX(id) FROM ${table}), 1), (SELECT COUNT(*) > 0 FROM ${table}))`,
        );
      }
      await client.query("UPDATE meta SET value = $1 WHERE key = 'mapping_version'", [String(dump.mappingVersion)]);
      if (dump.fencingSeq > 0) await client.query("SELECT setval('fencing_seq', $1)", [dump.fencingSeq]);
      return verify(await dumpIn(client));
    });
  }
}

/**
 * Mapping rows changed after `rev`. A router loads up to millions of them: one tab-separated text
 * value parses about twice as fast as as many result rows. Ids holding a tab or a line break
 * (which customer ids never do) come apart, as JSON.
 */
async function changedRows(client: Pick<pg.Pool, 'query'>, rev: number): Promise<MappingRow[]> {
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

async function emptyIn(client: Client): Promise<boolean> {
  const row = (
    await client.query<{ n: number; version: string }>(
      `SELECT (SELECT COUNT(*) FROM cells) + (SELECT COUNT(*) FROM customers) + (SELECT COUNT(*) FROM migrations) + (SELECT COUNT(*) FROM events) AS n,
              (SELECT value FROM meta WHERE key = 'mapping_version') AS version`,
    )
  ).rows[0]!;
  return row.n === 0 && Number(row.version) === 0;
}

async function importTable(client: Client, table: DumpTable, rows: readonly DumpRow[]): Promise<void> {
  const columns = DUMP_TABLES[table];
  const cast = (column: string): string => (column === 'detail' ? '::jsonb' : column === 'managed' ? '::boolean' : '');
  const placeholders = columns.map((column, i) => `$${i + 1}${cast(column)}`).join(', ');
  const insert = `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${placeholders})`;
  for (const row of rows) {
    await client.query(
      insert,
      columns.map((column) => (column === 'managed' ? row[column] === 1 : row[column])),
    );
  }
}

/** Every copied row, read back in the same form as a control.db dump. */
async function dumpIn(client: Client): Promise<ControlDump> {
  const tables = {} as Record<DumpTable, DumpRow[]>;
  for (const table of Object.keys(DUMP_TABLES) as DumpTable[]) {
    tables[table] = (await client.query(`SELECT ${DUMP_TABLES[table].join(', ')} FROM ${table}`)).rows.map((row: Record<string, unknown>) =>
      canonicalRow(table, row),
    );
  }
  const version = (await client.query<{ value: string }>("SELECT value FROM meta WHERE key = 'mapping_version'")).rows[0]!.value;
  const fencing = (await client.query<{ last_value: number; is_called: boolean }>('SELECT last_value, is_called FROM fencing_seq')).rows[0]!;
  return { tables, mappingVersion: Number(version), fencingSeq: fencing.is_called ? fencing.last_value : 0 };
}

/** Inside a transaction: waits for every earlier draw of a fencing number to commit (FENCING_LOCK). */
async function lockFencing(client: Client): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [FENCING_LOCK]);
}

async function insertMigrations(client: Client, inputs: readonly NewMigration[], owner: MigrationOwner, leaseMs: number): Promise<MigrationRecord[]> {
  await lockFencing(client);
  const fencing = (await client.query<{ n: number }>("SELECT nextval('fencing_seq') AS n")).rows[0]!.n;
  const records: MigrationRecord[] = [];
  for (const input of inputs) {
    const at = now();
    try {
      const row = await client.query<MigrationRow>(
        `INSERT INTO migrations (customer_id, source_cell, target_cell, step, state, keep_source_until, batch, started_at, updated_at,
                                 owner, owner_pid, owner_host, owner_started, lease_until, fencing)
         VALUES ($1, $2, $3, $4, 'running', $5, $6, $7, $7, $8, $9, $10, $11, $12, $13) RETURNING *`,
        [
          input.customerId,
          input.sourceCell,
          input.targetCell,
          input.step,
          input.keepSourceUntil,
          input.batch,
          at,
          owner.token,
          owner.pid,
          owner.host,
          owner.started,
          Date.now() + leaseMs,
          fencing,
        ],
      );
      records.push(toMigration(row.rows[0]!));
    } catch (error) {
      // Which customer, for the refusal told after the rollback.
      if (error && typeof error === 'object') (error as { customerId?: string }).customerId = input.customerId;
      throw error;
    }
  }
  return records;
}

/** A compare-and-set on the owner over every id: all rows change, or none (OwnershipLost names the lost ones). */
async function ownedWrite(client: Client, ids: readonly number[], owner: string, sql: string, params: unknown[]): Promise<void> {
  const wanted = [...new Set(ids)];
  const result = await client.query<{ id: number }>(sql, [wanted, owner, ...params]);
  const changed = new Set(result.rows.map((row) => row.id));
  const lost = wanted.filter((id) => !changed.has(id));
  if (lost.length > 0) throw new OwnershipLost(lost);
}

function recordStep(
  client: Client,
  ids: readonly number[],
  owner: string,
  step: MigrationStep,
  detail?: Record<string, unknown>,
  leaseMs?: number,
): Promise<void> {
  return ownedWrite(
    client,
    ids,
    owner,
    `UPDATE migrations SET step = $3, detail = merge_patch(detail, $4::jsonb), updated_at = $5, lease_until = COALESCE($6::bigint, lease_until)
     WHERE id = ANY($1) AND owner = $2 AND state = 'running' RETURNING id`,
    [step, JSON.stringify(detail ?? {}), now(), leaseMs === undefined ? null : Date.now() + leaseMs],
  );
}

function endOwned(client: Client, ids: readonly number[], owner: string, state: Exclude<MigrationState, 'running'>, error: string | null): Promise<void> {
  return ownedWrite(
    client,
    ids,
    owner,
    "UPDATE migrations SET state = $3, error = $4, updated_at = $5 WHERE id = ANY($1) AND owner = $2 AND state = 'running' RETURNING id",
    [state, error, now()],
  );
}

// --- rows → records ---

interface RouterRow {
  id: string;
  admin_url: string;
  public_url: string;
  pid: number;
  host: string;
  started_at: string;
  heartbeat_at: Date;
  age_ms: number;
}
