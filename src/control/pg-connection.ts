// The connection to a PostgreSQL control plane: its URL checked and kept out of every message, a pool
// of `pg` connections, transactions, and the schema made on first use. The plane's jobs (pg-plane.ts,
// pg-journal.ts, pg-watch.ts, pg-import.ts) run their SQL through it.
import pg from 'pg';
import { failure } from '../shared/errors.js';
import { passwordsIn, redactUrl, validatePgUrl } from './pg-url.js';
import { PG_CONTROL_SCHEMA, PG_SCHEMA, PG_SCHEMA_VERSION, SCHEMA_LOCK } from './pg-schema.js';
import { OwnershipLost } from './records.js';

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

export type Client = pg.PoolClient;
/** What runs a statement: the pool, or a transaction's client. */
export type Queryable = Pick<pg.Pool, 'query'>;

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

/**
 * The pool of connections to one PostgreSQL control plane: statements and transactions, with every
 * error cleaned of the password and explained (unreachable, login refused, a refused statement).
 */
export class PgConnection {
  readonly where: string;
  private readonly pool: pg.Pool;
  private readonly secrets: string[];

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
  static async connect(url: string, options: PgPlaneOptions = {}): Promise<PgConnection> {
    validatePgUrl(url);
    const db = new PgConnection(url, options);
    try {
      await db.ensureSchema();
    } catch (error) {
      await db.end();
      throw db.explain(error);
    }
    return db;
  }

  /** How a connection of its own (the mapping watch's listener) connects. */
  clientConfig(): pg.ClientConfig {
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
  explain(error: unknown): Error {
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

  async query<R extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, params);
    } catch (error) {
      throw this.explain(error);
    }
  }

  /** Runs `work` on the pool itself (statements outside a transaction), its errors explained. */
  async pooled<T>(work: (pool: Queryable) => Promise<T>): Promise<T> {
    try {
      return await work(this.pool);
    } catch (error) {
      throw this.explain(error);
    }
  }

  /** Runs `work` in one transaction: committed if it returns, rolled back (changing nothing) if it throws. */
  async tx<T>(work: (client: Client) => Promise<T>, isolation = 'READ COMMITTED'): Promise<T> {
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
  mappingTx<T>(work: (client: Client) => Promise<T>): Promise<T> {
    return this.tx(async (client) => {
      await client.query(LOCK_MAPPING);
      return work(client);
    });
  }

  /** One statement under the mapping lock (mappingTx); the rows it changed. */
  async mappingWrite(text: string, params: unknown[]): Promise<number> {
    return this.mappingTx(async (client) => (await client.query(text, params)).rowCount ?? 0);
  }

  async end(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
