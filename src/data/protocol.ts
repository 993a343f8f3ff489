// The cell data API, version 1: what a move, an audit and `customers show` may do with a cell's rows,
// shared by the server (the cell runtime, or `cellctl cell-agent` beside a user's app) and the client
// (the migration engine). docs/data-api.md describes it for people; this module is its contract.
//
// Every request carries `Authorization: Bearer <the cell's data token>`. Bodies are JSON. Only the
// customer tables the cell's template declares are ever read or written, and only the rows of the
// customers named in the request.
//
// Mutations (import, purge, barrier, unbar) carry the move's `fencing` number, which the control store
// raises every time a migration changes owner. A cell remembers, per customer, the highest number it
// has seen and refuses a lower one (409 stale_owner): a mover that was paused and taken over can never
// write again, wherever it runs. (The fencing-token technique of lease-based locks.)
import { z } from 'zod';

export const DATA_API_PREFIX = '/data/v1';

/** Rows per page of an export (and so per import transaction): a cell never waits long for its write lock. */
export const PAGE_ROWS = 2_000;
/** Largest request body the data API reads (an import page). */
export const MAX_DATA_BODY_BYTES = 32 * 1024 * 1024;

/**
 * One SQLite value on the wire. JSON numbers are integers (exact up to 2^53) or non-integral reals;
 * the rest are tagged so that a value lands in the target with the type it had in the source:
 * `{"$i": "9007199254740993"}` a larger integer, `{"$r": 2}` a real whose value is integral,
 * `{"$b": "<base64>"}` a blob. Text and null are themselves.
 */
export type WireValue = null | number | string | { $i: string } | { $r: number } | { $b: string };

export const wireValue: z.ZodType<WireValue> = z.union([
  z.null(),
  z.number(),
  z.string(),
  z.strictObject({ $i: z.string().regex(/^-?\d+$/) }),
  z.strictObject({ $r: z.number() }),
  z.strictObject({ $b: z.string() }),
]);

const customers = z.array(z.string().min(1).max(128)).min(1).max(10_000);
const fencing = z.number().int().positive();
const move = z.number().int().positive();

/** Where an export stands: the next table (by name) and the last rowid sent from it. */
export const exportCursor = z.strictObject({ table: z.string().min(1), after: z.number().int() });
export type ExportCursor = z.infer<typeof exportCursor>;

export const requests = {
  /** POST /data/v1/summary: per declared table, how many rows these customers have and their checksum. */
  summary: z.strictObject({ customers }),
  /** POST /data/v1/customers: the ids that have at least one row, in order, a page at a time. */
  customers: z.strictObject({ after: z.string().nullable().default(null), limit: z.number().int().min(1).max(10_000).default(1_000) }),
  /** POST /data/v1/export: the next page of these customers' rows, parents' tables first. */
  export: z.strictObject({ customers, cursor: exportCursor.nullable().default(null), limit: z.number().int().min(1).max(PAGE_ROWS).default(PAGE_ROWS) }),
  /**
   * POST /data/v1/import: stores one exported page, in one transaction, writing the cell's own id into
   * the table's cell column. It passes this cell's own barrier (a move bars the target too while it
   * copies, so the target's app cannot change rows that are still being compared). Idempotent per
   * (move, page key): a page already stored is not stored again.
   */
  import: z.strictObject({
    move,
    fencing,
    customers,
    page: z.strictObject({
      key: z.string().min(1).max(200),
      table: z.string().min(1),
      columns: z.array(z.string().min(1)).min(1),
      rows: z.array(z.array(wireValue)).max(PAGE_ROWS),
    }),
  }),
  /**
   * POST /data/v1/purge: deletes up to `limit` of these customers' rows, children's tables first, in one
   * transaction. When none are left (`done`), the barrier for them on this cell is lifted and the
   * import ledger of the move is forgotten.
   */
  purge: z.strictObject({ move, fencing, customers, limit: z.number().int().min(1).max(PAGE_ROWS).default(PAGE_ROWS) }),
  /** POST /data/v1/barrier: from now on this cell refuses every write to these customers' rows. */
  barrier: z.strictObject({ move, fencing, customers }),
  /** POST /data/v1/unbar: lifts the barrier (a move rolled back; or the target, once it owns the customers). */
  unbar: z.strictObject({ move, fencing, customers }),
};

export type SummaryRequest = z.input<typeof requests.summary>;
export type CustomersRequest = z.input<typeof requests.customers>;
export type ExportRequest = z.input<typeof requests.export>;
export type ImportRequest = z.input<typeof requests.import>;
export type PurgeRequest = z.input<typeof requests.purge>;
export type BarrierRequest = z.input<typeof requests.barrier>;

/** Rows and the order-independent checksum of a set of rows (the sum of each row's hash, mod 2^52). */
export interface RowsSummary {
  rows: number;
  checksum: number;
}

/** GET /data/v1/info */
export interface InfoAnswer {
  api: 1;
  cell_id: string;
  schema_version: number;
  tables: { table: string; customer_column: string; parent: string | null; cell_column: string | null }[];
  /** How the write barrier is enforced: always triggers on the declared tables. */
  barrier: 'triggers';
}

export interface SummaryAnswer {
  tables: ({ table: string } & RowsSummary)[];
}

export interface CustomersAnswer {
  customers: string[];
  /** Pass as `after` for the next page; null at the end. */
  next: string | null;
}

export interface ExportPage {
  /** Names the page for import's idempotence: `<table>:<first rowid>`. */
  key: string;
  table: string;
  columns: string[];
  rows: WireValue[][];
  /** Of these rows, with the table's cell column left out. */
  checksum: number;
}

export interface ExportAnswer {
  /** Null when these customers have no rows left to send. */
  page: ExportPage | null;
  /** Pass as `cursor` for the next page; null at the end. */
  next: ExportCursor | null;
}

/** What the target stored for a page, read back inside the same transaction. */
export interface ImportAnswer extends RowsSummary {
  table: string;
  /** True when this page had been stored before (a retried request); nothing was written now. */
  replayed: boolean;
}

export interface PurgeAnswer {
  removed: number;
  done: boolean;
}

export interface BarrierAnswer {
  customers: string[];
}

/** GET /data/v1/barriers */
export interface BarriersAnswer {
  barriers: { customer: string; move: number; since: string }[];
}

/**
 * Error answers are `{"error": text, "code": code}`, with these codes:
 * 400 bad_request (the body does not match the request schema; the text lists each problem),
 * 401 unauthorized, 404 not_found, 409 stale_owner (a higher fencing number was seen for one of
 * these customers), 413 body_too_large, 422 not_declared (a table or column the template does not
 * declare as customer data, or a row of a customer not named in the request), 503 database_busy.
 */
export const DATA_ERROR_CODES = ['bad_request', 'unauthorized', 'not_found', 'stale_owner', 'body_too_large', 'not_declared', 'database_busy'] as const;
export type DataErrorCode = (typeof DATA_ERROR_CODES)[number];

/** What the engine, audit and `customers show` use: one implementation (HTTP), for cells on any host. */
export interface DataApi {
  readonly cellId: string;
  info(): Promise<InfoAnswer>;
  summary(customerIds: readonly string[]): Promise<SummaryAnswer>;
  customers(after: string | null, limit?: number): Promise<CustomersAnswer>;
  export(customerIds: readonly string[], cursor: ExportCursor | null): Promise<ExportAnswer>;
  import(request: ImportRequest): Promise<ImportAnswer>;
  purge(request: PurgeRequest): Promise<PurgeAnswer>;
  barrier(request: BarrierRequest): Promise<BarrierAnswer>;
  unbar(request: BarrierRequest): Promise<BarrierAnswer>;
  barriers(): Promise<BarriersAnswer>;
}
