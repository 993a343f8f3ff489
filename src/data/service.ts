// What each data API endpoint does to the cell's database (protocol.ts): reads of the declared
// customer tables, and the mutations (import, purge, barrier, unbar), each one transaction that first
// checks the move's fencing number. The HTTP side is server.ts.
import Database from 'better-sqlite3';
import { configureSqlite } from '../shared/sqlite.js';
import { HttpError } from '../shared/http.js';
import { WRITES_CHECK, WRITES_REFUSED } from '../shared/health.js';
import { bypassing, installBarrier } from './barrier.js';
import { capturing, primaryKeyOf, readChanges, startCapture, stopCapture } from './capture.js';
import { decodeKey, type KeyedAccess, keyText, prepareKeyed, upsertFor } from './online.js';
import type {
  ApplyAnswer,
  BarrierAnswer,
  BarriersAnswer,
  CaptureAnswer,
  ChangesAnswer,
  CustomersAnswer,
  ExportAnswer,
  ImportAnswer,
  InfoAnswer,
  PageSection,
  PurgeAnswer,
  requests,
  SkippedRows,
  SummaryAnswer,
} from './protocol.js';
import { DATA_API_VERSION, type ExportCursor, PAGE_ROWS, SUMMARY_PAGE_ROWS } from './protocol.js';
import { checksumOfSum, decodeWire, exportRowSql, registerRowFunctions, rowHashOfParamsSql, rowHashSql } from './rows.js';
import { checkTablesExist, type DataTable, quoteIdent, tableColumns } from './tables.js';
import type { z } from 'zod';

type Req<K extends keyof typeof requests> = z.output<(typeof requests)[K]>;
type ImportSection = Req<'import'>['page']['sections'][number];

/** A section's rows text as JSON: an array (of rows), or 400. */
function parseRows(text: string, where: string): unknown[] {
  let rows: unknown;
  try {
    rows = JSON.parse(text);
  } catch (error) {
    throw new HttpError('bad_request', `${where}.rows must be the text of a JSON array of rows: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!Array.isArray(rows)) throw new HttpError('bad_request', `${where}.rows must be the text of a JSON array of rows`);
  return rows;
}

/** decodeWire, with a bad value the caller's mistake: 400 saying where. */
function decodeAt(value: unknown, where: string): unknown {
  try {
    return decodeWire(value);
  } catch (error) {
    throw new HttpError('bad_request', `${where}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** How long a health check's write probe waits for a busy database: well inside every health probe's timeout (1 s). */
const PROBE_BUSY_MS = 300;

/** Before every rowid: where an export of a table starts. */
const FIRST = Number.MIN_SAFE_INTEGER;

interface TableAccess {
  decl: DataTable;
  columns: string[];
  /** The columns the checksum covers: all but the cell column. */
  hashed: string[];
  exportPage: Database.Statement;
  /** exportPage with the checksum of the page's rows. */
  exportChecksummed: Database.Statement;
  summary: Database.Statement;
  count: Database.Statement;
  /** One page of a paged summary (with or without checksums): rows, last rowid, sum of hashes. */
  summaryPage: Database.Statement;
  countPage: Database.Statement;
  /** The checksum of rows by rowid (a JSON array): an import's rows, read back. */
  checksumOfRowids: Database.Statement;
  /** The hash of one row given as values of the hashed columns (a row an unordered import skipped). */
  hashOfValues: Database.Statement;
  /** The primary key, or why online moves cannot use this table. */
  key: { key: string[] } | { why: string };
  customerIds: Database.Statement;
  anyLeft: Database.Statement;
  deleteSome: Database.Statement;
}

const IN_CUSTOMERS = 'IN (SELECT value FROM json_each(?))';

const notDeclared = (what: string) => new HttpError('not_declared', `${what}: the data API reads and writes only the template's declared customer tables`);

/** A page that collides with rows the cell already has (a unique key, a missing parent) is the caller's to resolve. */
function conflictOnConstraint<T>(table: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (!String((error as { code?: unknown }).code ?? '').startsWith('SQLITE_CONSTRAINT')) throw error;
    const why = error instanceof Error ? error.message : String(error);
    throw new HttpError('conflict', `table "${table}": ${why}; the cell already holds rows this page collides with (purge them here first)`);
  }
}

export interface DataServiceOptions {
  dbFile: string;
  cellId: string;
  /** Parents first (parseDataTables). */
  tables: readonly DataTable[];
}

export class DataService {
  readonly db: Database.Database;
  private readonly access: TableAccess[];
  /** The keyed statements of online moves per table, prepared on first use. */
  private readonly keyedAccess = new Map<string, KeyedAccess>();
  /** The import's insert per table and column list, prepared on first use. */
  private readonly inserts = new Map<string, Database.Statement>();

  constructor(private readonly options: DataServiceOptions) {
    this.db = new Database(options.dbFile, { fileMustExist: true });
    try {
      configureSqlite(this.db);
      checkTablesExist(this.db, options.tables, options.dbFile);
      registerRowFunctions(this.db);
      // Once, at start, with configureSqlite's patient busy timeout: the app may be writing.
      installBarrier(this.db, options.tables);
      // Then a short wait inside SQLite (it blocks the event loop); longer waits are retried on timers (shared/http.ts).
      this.db.pragma('busy_timeout = 20');
      this.access = options.tables.map((decl) => this.prepareTable(decl));
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private prepareTable(decl: DataTable): TableAccess {
    const columns = tableColumns(this.db, decl.table);
    const cellIndex = decl.cellColumn === null ? -1 : columns.indexOf(decl.cellColumn);
    const table = quoteIdent(decl.table);
    const customer = quoteIdent(decl.customerColumn);
    const hashed = columns.filter((_, index) => index !== cellIndex);
    const prepare = (sql: string) => this.db.prepare(sql).safeIntegers(true);
    // One string of rows per page, rendered by SQLite (rows.ts), with the first and last rowid for the key and the cursor.
    const page = `SELECT rowid AS id, ${exportRowSql(columns)} AS row FROM ${table} WHERE ${customer} ${IN_CUSTOMERS} AND rowid > ? ORDER BY rowid LIMIT ?`;
    const hashedPage = `SELECT rowid AS id, ${exportRowSql(columns)} AS row, ${rowHashSql(hashed)} AS hash FROM ${table} WHERE ${customer} ${IN_CUSTOMERS} AND rowid > ? ORDER BY rowid LIMIT ?`;
    const pageColumns = 'count(*) AS n, min(id) AS first, max(id) AS last, json_group_array(json(row)) AS rows';
    return {
      decl,
      columns,
      hashed,
      exportPage: prepare(`SELECT ${pageColumns} FROM (${page})`),
      exportChecksummed: prepare(`SELECT ${pageColumns}, SUM(hash) AS total FROM (${hashedPage})`),
      summary: prepare(`SELECT COUNT(*) AS n, SUM(${rowHashSql(hashed)}) AS total FROM ${table} WHERE ${customer} ${IN_CUSTOMERS}`),
      count: prepare(`SELECT COUNT(*) AS n, NULL AS total FROM ${table} WHERE ${customer} ${IN_CUSTOMERS}`),
      summaryPage: prepare(
        `SELECT count(*) AS n, max(id) AS last, SUM(hash) AS total FROM (SELECT rowid AS id, ${rowHashSql(hashed)} AS hash FROM ${table} WHERE ${customer} ${IN_CUSTOMERS} AND rowid > ? ORDER BY rowid LIMIT ?)`,
      ),
      countPage: prepare(
        `SELECT count(*) AS n, max(id) AS last, NULL AS total FROM (SELECT rowid AS id FROM ${table} WHERE ${customer} ${IN_CUSTOMERS} AND rowid > ? ORDER BY rowid LIMIT ?)`,
      ),
      checksumOfRowids: prepare(`SELECT SUM(${rowHashSql(hashed)}) AS total FROM ${table} WHERE rowid IN (SELECT value FROM json_each(?))`),
      hashOfValues: prepare(`SELECT ${rowHashOfParamsSql(hashed.length)}`).pluck(),
      key: primaryKeyOf(this.db, decl.table),
      customerIds: prepare(`SELECT DISTINCT ${customer} AS id FROM ${table} WHERE ${customer} > ? ORDER BY ${customer} LIMIT ?`),
      anyLeft: prepare(`SELECT 1 FROM ${table} WHERE ${customer} ${IN_CUSTOMERS} LIMIT 1`),
      deleteSome: prepare(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${customer} ${IN_CUSTOMERS} LIMIT ?)`),
    };
  }

  private table(name: string): TableAccess {
    const found = this.access.find((access) => access.decl.table === name);
    if (!found) throw notDeclared(`table "${name}" is not a declared customer table`);
    return found;
  }

  /** Readable, and taking writes (probeWrites); 503 naming the check that fails. */
  async health(): Promise<{ status: number; body: { status: string; cell_id: string; checks: Record<string, string> } }> {
    let database = 'healthy';
    try {
      this.db.prepare('SELECT 1 FROM _cellctl_barrier LIMIT 1').all();
    } catch (error) {
      database = `unhealthy: ${error instanceof Error ? error.message : String(error)}`;
    }
    const refusal = database === 'healthy' ? await this.probeWrites() : null;
    const checks = { database, [WRITES_CHECK]: refusal === null ? 'healthy' : `unhealthy: ${refusal}` };
    const healthy = Object.values(checks).every((check) => check === 'healthy');
    return { status: healthy ? 200 : 503, body: { status: healthy ? 'healthy' : 'unhealthy', cell_id: this.options.cellId, checks } };
  }

  /**
   * Writes one row of the data API's own table (_cellctl_probe): null when the database takes it,
   * else why not (another writer holds the lock past the probe's short wait, or the file is read-only).
   * Busy answers are retried on timers for PROBE_BUSY_MS, never in SQLite's blocking wait.
   */
  async probeWrites(): Promise<string | null> {
    const deadline = Date.now() + PROBE_BUSY_MS;
    for (;;) {
      try {
        this.db.prepare('INSERT INTO _cellctl_probe (only, at) VALUES (1, ?) ON CONFLICT (only) DO UPDATE SET at = excluded.at').run(new Date().toISOString());
        return null;
      } catch (error) {
        const code = String((error as { code?: unknown }).code ?? '');
        const why = `${WRITES_REFUSED}${code ? ` (${code}: ${error instanceof Error ? error.message : String(error)})` : ''}`;
        if (!code.startsWith('SQLITE_BUSY') && !code.startsWith('SQLITE_LOCKED')) return why;
        if (Date.now() >= deadline) return `${why}; another connection holds its write lock`;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
  }

  info(): InfoAnswer {
    return {
      api: DATA_API_VERSION,
      cell_id: this.options.cellId,
      schema_version: this.db.pragma('user_version', { simple: true }) as number,
      tables: this.access.map(({ decl }) => ({ table: decl.table, customer_column: decl.customerColumn, parent: decl.parent, cell_column: decl.cellColumn })),
      barrier: 'triggers',
      online: this.onlineProblem(),
      fencing: this.highestFencing(),
    };
  }

  /** Null when every declared table has a key an online move can match changes by, else why not. */
  private onlineProblem(): string | null {
    const problems = this.access.flatMap(({ key }) => ('why' in key ? [key.why] : []));
    return problems.length === 0 ? null : problems.join('; ');
  }

  /** The highest fencing number this cell has seen for any customer (0: none). */
  private highestFencing(): number {
    return (this.db.prepare('SELECT MAX(fencing) AS top FROM _cellctl_fencing').get() as { top: number | null }).top ?? 0;
  }

  summary(request: { customers: string[]; checksums?: boolean; cursor?: Req<'summary'>['cursor']; limit?: number }): SummaryAnswer {
    const customers = JSON.stringify(request.customers);
    const checksums = request.checksums ?? true;
    if (request.cursor === undefined) return { tables: this.db.transaction(() => this.summaryOf(customers, checksums))() };
    return this.db.transaction(() => this.summaryPage(customers, checksums, request.cursor ?? null, request.limit ?? SUMMARY_PAGE_ROWS))();
  }

  /** The sums of up to `limit` of these customers' rows from `cursor` on, tables in copy order, and where the next page starts. */
  private summaryPage(customers: string, checksums: boolean, cursor: ExportCursor | null, limit: number): SummaryAnswer {
    const tables = this.access.map((access) => ({ table: access.decl.table, rows: 0, checksum: 0 }));
    const next = this.walkPage(cursor, limit, (access, index, after, room) => {
      const read = (checksums ? access.summaryPage : access.countPage).get(customers, after, room) as { n: bigint; last: bigint | null; total: bigint | null };
      tables[index] = { table: access.decl.table, rows: Number(read.n), checksum: checksumOfSum(read.total) };
      return { count: Number(read.n), last: read.last };
    });
    return { tables, next };
  }

  /**
   * Walks the declared tables from `cursor` (parents first, each in rowid order) for up to `limit` rows
   * in all: `read` takes at most `room` rows of one table after rowid `after` and says how many it took
   * and the last rowid. Returns where the next page starts, or null at the end.
   */
  private walkPage(
    cursor: ExportCursor | null,
    limit: number,
    read: (access: TableAccess, index: number, after: bigint, room: number) => { count: number; last: bigint | null },
  ): ExportCursor | null {
    let room = limit;
    let index = cursor === null ? 0 : this.access.indexOf(this.table(cursor.table));
    let after = cursor?.after ?? FIRST;
    for (; index < this.access.length; index += 1, after = FIRST) {
      const access = this.access[index]!;
      const { count, last } = read(access, index, BigInt(after), room);
      room -= count;
      // The page is full: the next one starts after this row (an empty last page is possible, and harmless).
      if (room === 0) return { table: access.decl.table, after: Number(last) };
    }
    return null;
  }

  /** Per declared table, the rows of these customers (a JSON array) and their checksum (0 without `checksums`: counting only is much faster). */
  private summaryOf(customers: string, checksums = true): SummaryAnswer['tables'] {
    return this.access.map((access) => {
      const { n, total } = (checksums ? access.summary : access.count).get(customers) as { n: bigint; total: bigint | null };
      return { table: access.decl.table, rows: Number(n), checksum: checksumOfSum(total) };
    });
  }

  customers(request: Req<'customers'>): CustomersAnswer {
    const ids = new Set<string>();
    for (const access of this.access) {
      for (const row of access.customerIds.all(request.after ?? '', request.limit) as { id: unknown }[]) ids.add(String(row.id));
    }
    const sorted = [...ids].filter((id) => request.after === null || id > request.after).sort();
    const page = sorted.slice(0, request.limit);
    return { customers: page, next: sorted.length > request.limit || page.length === request.limit ? (page.at(-1) ?? null) : null };
  }

  /**
   * The next page: rows of the tables from the cursor on, parents first, until `limit` rows. One
   * transaction, which bars the customers first when asked (so no write lands between bar and read)
   * and, on the last page, reads the summary too when asked.
   */
  export(request: Req<'export'>): ExportAnswer {
    const read = (): ExportAnswer => {
      if (request.barrier) this.bar(request.customers, request.barrier.move, request.barrier.fencing);
      const answer = this.readPage(request);
      if (request.summary && answer.next === null) answer.summary = this.summaryOf(JSON.stringify(request.customers));
      return answer;
    };
    const transaction = this.db.transaction(read);
    return request.barrier ? transaction.immediate() : transaction();
  }

  private readPage(request: Req<'export'>): ExportAnswer {
    const customers = JSON.stringify(request.customers);
    const sections: PageSection[] = [];
    let key: string | null = null;
    const next = this.walkPage(request.cursor, request.limit, (access, _index, after, room) => {
      const statement = request.checksums ? access.exportChecksummed : access.exportPage;
      const read = statement.get(customers, after, room) as { n: bigint; first: bigint | null; last: bigint | null; rows: string; total?: bigint | null };
      const count = Number(read.n);
      if (count > 0) {
        key ??= `${access.decl.table}:${String(read.first)}`;
        const section: PageSection = { table: access.decl.table, columns: access.columns, count, rows: read.rows };
        if (request.checksums) section.checksum = checksumOfSum(read.total ?? null);
        sections.push(section);
      }
      return { count, last: read.last };
    });
    return { page: key === null ? null : { key, sections }, next };
  }

  /** Refuses a mover older than one already seen for any of these customers; remembers the newest. */
  private refuseStaleMover(customers: readonly string[], fencing: number): void {
    const json = JSON.stringify(customers);
    const top = (this.db.prepare(`SELECT MAX(fencing) AS top FROM _cellctl_fencing WHERE customer ${IN_CUSTOMERS}`).get(json) as { top: number | null }).top;
    if (top !== null && top > fencing) {
      throw new HttpError(
        'stale_owner',
        `a newer move (fencing ${top}) owns one of these customers; this mover (fencing ${fencing}) was replaced and must stop`,
      );
    }
    this.db
      .prepare(
        `INSERT INTO _cellctl_fencing (customer, fencing) SELECT value, ? FROM json_each(?) WHERE true
         ON CONFLICT (customer) DO UPDATE SET fencing = max(fencing, excluded.fencing)`,
      )
      .run(fencing, json);
  }

  /** The customers live here (again): their barrier and their tombstone go. */
  private clearBarriers(customers: readonly string[]): void {
    const json = JSON.stringify(customers);
    this.db.prepare(`DELETE FROM _cellctl_barrier WHERE customer ${IN_CUSTOMERS}`).run(json);
    this.db.prepare(`DELETE FROM _cellctl_tombstone WHERE customer ${IN_CUSTOMERS}`).run(json);
  }

  /**
   * The customers' rows are gone from here because they live elsewhere: the barrier becomes a
   * tombstone, which refuses their writes (a stale router's) until a move or a placement brings them back.
   */
  private bury(customers: readonly string[], fencing: number): void {
    const json = JSON.stringify(customers);
    this.db.prepare(`DELETE FROM _cellctl_barrier WHERE customer ${IN_CUSTOMERS}`).run(json);
    this.db
      .prepare(
        `INSERT INTO _cellctl_tombstone (customer, fencing, since) SELECT value, ?, ? FROM json_each(?) WHERE true
         ON CONFLICT (customer) DO UPDATE SET fencing = max(fencing, excluded.fencing), since = excluded.since`,
      )
      .run(fencing, new Date().toISOString(), json);
  }

  import(request: Req<'import'>): ImportAnswer {
    const store = this.db.transaction((): ImportAnswer => {
      this.refuseStaleMover(request.customers, request.fencing);
      const answer = this.storePage(request);
      if (request.summary) answer.summary = this.summaryOf(JSON.stringify(request.customers));
      if (request.lift) this.clearBarriers(request.customers);
      return answer;
    });
    return request.unordered ? this.withoutForeignKeys(() => store.immediate()) : store.immediate();
  }

  /** Runs `work` (a whole transaction) with foreign keys not enforced on this connection; a pragma SQLite takes only outside a transaction. */
  private withoutForeignKeys<T>(work: () => T): T {
    this.db.pragma('foreign_keys = OFF');
    try {
      return work();
    } finally {
      this.db.pragma('foreign_keys = ON');
    }
  }

  /** Stores a page once per (move, key), each section under its table's checks. */
  private storePage(request: Req<'import'>): ImportAnswer {
    const { move, page } = request;
    const stored = this.db.prepare('SELECT rows FROM _cellctl_imports WHERE move = ? AND key = ?').get(move, page.key) as { rows: number } | undefined;
    if (stored) return { rows: stored.rows, tables: [], replayed: true };
    const total = page.sections.reduce((sum, section) => sum + section.count, 0);
    if (total > PAGE_ROWS) throw new HttpError('bad_request', `page: ${total} rows; a page holds at most ${PAGE_ROWS}`);
    const named = new Set(request.customers);
    const tables = page.sections.map((section, number) => {
      const access = this.table(section.table);
      const where = `page.sections.${number}`;
      const rows = this.checkedRows(access, section, named, where);
      const stored = bypassing(this.db, () => conflictOnConstraint(access.decl.table, () => this.insertRows(access, section.columns, rows, request.unordered)));
      const rowids = stored.filter((rowid): rowid is bigint => rowid !== null);
      const skipped = request.unordered ? this.skippedRows(access, section, rows, stored) : undefined;
      if (!request.checksums) return { table: access.decl.table, rows: rowids.length, ...(skipped ? { skipped } : {}) };
      const { total } = access.checksumOfRowids.get(`[${rowids.join(',')}]`) as { total: bigint | null };
      return { table: access.decl.table, rows: rowids.length, checksum: checksumOfSum(total), ...(skipped ? { skipped } : {}) };
    });
    this.db
      .prepare('INSERT INTO _cellctl_imports (move, key, tbl, rows, checksum) VALUES (?, ?, ?, ?, 0)')
      .run(move, page.key, tables.map((t) => t.table).join(','), total);
    return { rows: total, tables, replayed: false };
  }

  /**
   * A section's rows decoded for binding, checked before anything of it is stored: declared columns,
   * rows that are arrays of wire values, as many as `count`, every one a named customer's; the cell's
   * own id goes into the cell column.
   */
  private checkedRows(access: TableAccess, section: ImportSection, named: ReadonlySet<string>, where: string): unknown[][] {
    const { columns } = section;
    const unknown = columns.filter((column) => !access.columns.includes(column));
    if (unknown.length > 0) throw notDeclared(`table "${access.decl.table}" has no column ${unknown.map((c) => `"${c}"`).join(', ')}`);
    if (new Set(columns).size !== columns.length) throw new HttpError('bad_request', `${where}.columns: a column is named twice`);
    const customerIndex = columns.indexOf(access.decl.customerColumn);
    if (customerIndex < 0) throw notDeclared(`${where}.columns must include the customer column "${access.decl.customerColumn}"`);
    const cellIndex = access.decl.cellColumn === null ? -1 : columns.indexOf(access.decl.cellColumn);
    const rows = parseRows(section.rows, where);
    if (rows.length !== section.count) throw new HttpError('bad_request', `${where}.count is ${section.count} but rows holds ${rows.length}`);
    return rows.map((row, number) => {
      if (!Array.isArray(row) || row.length !== columns.length) {
        throw new HttpError('bad_request', `${where}.rows[${number}] is not an array of ${columns.length} values`);
      }
      const values = row.map((value, column) => decodeAt(value, `${where}.rows[${number}][${column}]`));
      if (!named.has(String(values[customerIndex]))) {
        throw notDeclared(`${where}.rows[${number}] belongs to customer "${String(values[customerIndex])}", not one named in "customers"`);
      }
      if (cellIndex >= 0) values[cellIndex] = this.options.cellId;
      return values;
    });
  }

  /**
   * Inserts the rows; returns their rowids. `unordered` (an online copy): a row whose key or unique
   * value the cell already holds is skipped (null), not a conflict: it was written after the capture
   * began (copied twice, or beside a stale row), so its change follows and settles it.
   */
  private insertRows(access: TableAccess, columns: string[], rows: unknown[][], unordered = false): (bigint | null)[] {
    const key = `${unordered ? 'or ignore ' : ''}${access.decl.table}(${columns.join(',')})`;
    let insert = this.inserts.get(key);
    if (!insert) {
      const list = columns.map(quoteIdent).join(', ');
      const verb = unordered ? 'INSERT OR IGNORE' : 'INSERT';
      insert = this.db.prepare(`${verb} INTO ${quoteIdent(access.decl.table)} (${list}) VALUES (${columns.map(() => '?').join(', ')})`).safeIntegers(true);
      this.inserts.set(key, insert);
    }
    return rows.map((values) => {
      const result = insert.run(...values);
      return result.changes === 0 ? null : BigInt(result.lastInsertRowid);
    });
  }

  /** The rows an unordered import skipped: how many, their checksum (as the source hashed them) and their keys (wire values), or undefined when none. */
  private skippedRows(access: TableAccess, section: ImportSection, rows: unknown[][], stored: (bigint | null)[]): SkippedRows | undefined {
    const at = stored.flatMap((rowid, index) => (rowid === null ? [index] : []));
    if (at.length === 0) return undefined;
    const keyed = this.keyed(access);
    const raw = parseRows(section.rows, 'rows') as unknown[][];
    const keyAt = keyed.key.map((column) => section.columns.indexOf(column));
    const hashedAt = access.hashed.map((column) => section.columns.indexOf(column));
    let total = 0n;
    for (const index of at) total += access.hashOfValues.get(Object.fromEntries(hashedAt.map((column, n) => [`v${n}`, rows[index]![column]]))) as bigint;
    return {
      count: at.length,
      checksum: checksumOfSum(total),
      key: keyed.key,
      keys: JSON.stringify(at.map((index) => keyAt.map((column) => raw[index]![column]))),
    };
  }

  purge(request: Req<'purge'>): PurgeAnswer {
    return this.db
      .transaction((): PurgeAnswer => {
        this.refuseStaleMover(request.customers, request.fencing);
        const customers = JSON.stringify(request.customers);
        let removed = 0;
        bypassing(this.db, () => {
          for (const access of [...this.access].reverse()) {
            if (removed >= request.limit) break;
            removed += access.deleteSome.run(customers, request.limit - removed).changes;
          }
        });
        const done = removed < request.limit || this.access.every((access) => access.anyLeft.get(customers) === undefined);
        if (done) {
          this.bury(request.customers, request.fencing);
          this.db.prepare('DELETE FROM _cellctl_imports WHERE move = ?').run(request.move);
        }
        return { removed, done };
      })
      .immediate();
  }

  barrier(request: Req<'barrier'>): BarrierAnswer {
    this.db.transaction(() => this.bar(request.customers, request.move, request.fencing)).immediate();
    return { customers: request.customers };
  }

  /** Checks the fencing number, then bars the customers for `move` (inside the caller's transaction). */
  private bar(customers: readonly string[], move: number, fencing: number): void {
    this.refuseStaleMover(customers, fencing);
    this.db
      .prepare(
        `INSERT INTO _cellctl_barrier (customer, move, since) SELECT value, ?, ? FROM json_each(?) WHERE true
         ON CONFLICT (customer) DO UPDATE SET move = excluded.move`,
      )
      .run(move, new Date().toISOString(), JSON.stringify(customers));
  }

  unbar(request: Req<'unbar'>): BarrierAnswer {
    this.db
      .transaction(() => {
        this.refuseStaleMover(request.customers, request.fencing);
        this.clearBarriers(request.customers);
      })
      .immediate();
    return { customers: request.customers };
  }

  barriers(): BarriersAnswer {
    return {
      barriers: this.db.prepare('SELECT customer, move, since FROM _cellctl_barrier ORDER BY customer').all() as BarriersAnswer['barriers'],
      tombstones: this.db.prepare('SELECT customer, fencing, since FROM _cellctl_tombstone ORDER BY customer').all() as BarriersAnswer['tombstones'],
    };
  }

  /** The keyed statements of a table, made on first use; 422 not_keyed for a table an online move cannot use. */
  private keyed(access: TableAccess): KeyedAccess {
    let keyed = this.keyedAccess.get(access.decl.table);
    if (!keyed) {
      if ('why' in access.key) throw new HttpError('not_keyed', `${access.key.why}: move this cell's customers with a fenced copy`);
      keyed = prepareKeyed(this.db, access.decl, access.columns, access.hashed, access.key.key);
      this.keyedAccess.set(access.decl.table, keyed);
    }
    return keyed;
  }

  capture(request: Req<'capture'>): CaptureAnswer {
    const problem = this.onlineProblem();
    if (problem !== null) throw new HttpError('not_keyed', `${problem}: move this cell's customers with a fenced copy`);
    const keyed = this.access.map((access) => ({ decl: access.decl, key: this.keyed(access).key }));
    return this.db
      .transaction((): CaptureAnswer => {
        this.refuseStaleMover(request.customers, request.fencing);
        startCapture(this.db, keyed, request.move, JSON.stringify(request.customers));
        return { customers: request.customers, capturing: this.db.prepare('SELECT COUNT(*) FROM _cellctl_capture').pluck().get() as number };
      })
      .immediate();
  }

  captureStop(request: Req<'captureStop'>): CaptureAnswer {
    return this.db
      .transaction((): CaptureAnswer => {
        this.refuseStaleMover(request.customers, request.fencing);
        return { customers: request.customers, ...stopCapture(this.db, JSON.stringify(request.customers)) };
      })
      .immediate();
  }

  /**
   * The rows of a move's changes as they are now, in one transaction (which first bars the customers
   * when asked, so the answer is the last one): rows that exist go in sections with their checksums,
   * parents first; keys whose row is gone, or belongs to another customer now, go in `deletes`.
   */
  changes(request: Req<'changes'>): ChangesAnswer {
    const read = (): ChangesAnswer => {
      if (request.barrier) this.bar(request.customers, request.barrier.move, request.barrier.fencing);
      if (!capturing(this.db, request.move))
        throw new HttpError(
          'not_capturing',
          `cell ${this.options.cellId} captures no changes for move ${request.move} (the capture was stopped, or never started): the move must start again`,
        );
      const { changes, left } = readChanges(this.db, request.move, request.after, request.limit);
      const byTable = new Map<string, Set<string>>();
      for (const change of changes) byTable.set(change.tbl, (byTable.get(change.tbl) ?? new Set()).add(change.key));
      const named = new Set(request.customers);
      const answer: ChangesAnswer = { sections: [], deletes: [], last: changes.at(-1)?.seq ?? request.after, left };
      for (const access of this.access) {
        const keys = byTable.get(access.decl.table);
        if (keys) this.readKeys(this.keyed(access), access.columns, keys, named, answer);
      }
      return answer;
    };
    const transaction = this.db.transaction(read);
    return request.barrier ? transaction.immediate() : transaction();
  }

  /** The rows of these keys of one table, into `answer`: a section of those that exist and are the customers', the rest as deletes. */
  private readKeys(keyed: KeyedAccess, columns: string[], keys: ReadonlySet<string>, named: ReadonlySet<string>, answer: ChangesAnswer): void {
    const rows: string[] = [];
    const gone: string[] = [];
    let total = 0n;
    for (const key of keys) {
      const found = keyed.lookup.get(...decodeKey(key, keyed.key.length)) as { row: string; customer: unknown; hash: bigint } | undefined;
      if (found && named.has(String(found.customer))) {
        rows.push(found.row);
        total += found.hash;
      } else gone.push(key);
    }
    const table = keyed.decl.table;
    if (rows.length > 0) answer.sections.push({ table, columns, count: rows.length, checksum: checksumOfSum(total), rows: `[${rows.join(',')}]` });
    if (gone.length > 0) answer.deletes.push({ table, keys: `[${gone.join(',')}]` });
  }

  /**
   * A page of changes, in one transaction passing the barrier: deletes (children's tables first), then
   * rows inserted or replacing the row with their key (parents first); foreign keys not enforced (protocol.ts).
   * A key held by another customer's row here is a conflict, and nothing is written.
   */
  apply(request: Req<'apply'>): ApplyAnswer {
    return this.withoutForeignKeys(() => this.applyPage(request));
  }

  private applyPage(request: Req<'apply'>): ApplyAnswer {
    return this.db
      .transaction((): ApplyAnswer => {
        this.refuseStaleMover(request.customers, request.fencing);
        const named = new Set(request.customers);
        const customers = JSON.stringify(request.customers);
        const touched = new Map<KeyedAccess, Map<string, unknown[]>>();
        const touch = (keyed: KeyedAccess, key: unknown[]) => {
          const keys = touched.get(keyed) ?? new Map<string, unknown[]>();
          keys.set(keyText(key as Parameters<typeof keyText>[0]), key);
          touched.set(keyed, keys);
        };
        const work: (() => void)[] = [];
        for (const access of [...this.access].reverse()) {
          for (const section of request.deletes.filter((d) => d.table === access.decl.table)) {
            const keyed = this.keyed(access);
            for (const key of this.deleteKeys(section.keys, keyed.key.length, access.decl.table)) {
              touch(keyed, key);
              work.push(() => keyed.remove.run(...key, customers));
            }
          }
        }
        request.sections.forEach((section, number) => {
          const access = this.table(section.table);
          const keyed = this.keyed(access);
          const at = keyed.key.map((column) => section.columns.indexOf(column));
          if (at.some((index) => index < 0)) throw new HttpError('bad_request', `sections.${number}.columns must include the key (${keyed.key.join(', ')})`);
          const upsert = upsertFor(this.db, keyed, section.columns);
          for (const values of this.checkedRows(access, section, named, `sections.${number}`)) {
            touch(
              keyed,
              at.map((index) => values[index]),
            );
            work.push(() => upsert.run(...values));
          }
        });
        const before = this.sumKeys(touched, named, true);
        bypassing(this.db, () => {
          for (const step of work) conflictOnConstraint('apply', step);
        });
        return { before, after: this.sumKeys(touched, named, false) };
      })
      .immediate();
  }

  /** A delete section's keys, decoded; 400 when they are not keys of the table. */
  private deleteKeys(text: string, length: number, table: string): unknown[][] {
    const keys = parseRows(text, `deletes (${table})`);
    try {
      return keys.map((key) => decodeKey(JSON.stringify(key), length));
    } catch (error) {
      throw new HttpError('bad_request', `deletes (${table}): ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Per declared table, the rows and checksum of these keys' rows here that are the customers'; `strict`: a key held by another customer's row is a conflict. */
  private sumKeys(touched: ReadonlyMap<KeyedAccess, ReadonlyMap<string, unknown[]>>, named: ReadonlySet<string>, strict: boolean): ApplyAnswer['before'] {
    return this.access.map((access) => {
      const keyed = this.keyedAccess.get(access.decl.table);
      let rows = 0;
      let total = 0n;
      for (const key of (keyed && touched.get(keyed)?.values()) ?? []) {
        const found = keyed!.hashOf.get(...key) as { customer: unknown; hash: bigint } | undefined;
        if (!found) continue;
        if (!named.has(String(found.customer))) {
          if (strict)
            throw new HttpError(
              'conflict',
              `table "${access.decl.table}": key ${JSON.stringify(key.map(String))} is held here by another customer's row; nothing was written`,
            );
          continue;
        }
        rows += 1;
        total += found.hash;
      }
      return { table: access.decl.table, rows, checksum: checksumOfSum(total) };
    });
  }
}
