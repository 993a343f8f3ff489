// The cell data API, version 3: what a move, an audit and `customers show` may do with a cell's rows,
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

/**
 * The paths' prefix. It stays /data/v2 across versions of the API so that a cell running an older
 * cellctl still answers GET /info, and a mover can tell the user which side to upgrade.
 */
export const DATA_API_PREFIX = '/data/v2';
/**
 * What GET /info answers as `api`. 3: tombstones (a purge leaves one; import's lift and unbar drop it)
 * and `fencing` in /info. 4: online moves (capture, changes, apply; checksums of export and import
 * pages; `online` in /info; counts without checksums).
 */
export const DATA_API_VERSION = 4;

/** Rows per page of an export, all tables together (and so per import transaction): a cell never waits long for its write lock. */
export const PAGE_ROWS = 2_000;
/** Rows per page of a paged summary (each row hashed): about as long a read as an export page. */
export const SUMMARY_PAGE_ROWS = 10_000;
/** Largest request body the data API reads (an import page). */
export const MAX_DATA_BODY_BYTES = 32 * 1024 * 1024;

const customers = z.array(z.string().min(1).max(128)).min(1).max(10_000);
const fencing = z.number().int().positive();
const move = z.number().int().positive();

/** Where an export stands: the next table (by name) and the last rowid sent from it. */
export const exportCursor = z.strictObject({ table: z.string().min(1), after: z.number().int() });
export type ExportCursor = z.infer<typeof exportCursor>;

/** One table's rows in a page (PageSection below), as import and apply take it. */
const pageSection = z.strictObject({
  table: z.string().min(1),
  columns: z.array(z.string().min(1)).min(1),
  count: z.number().int().min(0).max(PAGE_ROWS),
  checksum: z.number().int().min(0).optional(),
  rows: z.string(),
});

export const requests = {
  /** POST /data/v2/summary: per declared table, how many rows these customers have and their checksum. */
  summary: z.strictObject({
    customers,
    checksums: z.boolean().default(true),
    /**
     * Paged: the sums of the rows from `cursor` on (null: the first), at most `limit`, and `next` in the
     * answer. Each page is its own read, so the pages add up to the whole only for customers whose
     * rows do not change meanwhile (barred ones); a cell is never busy with one read for long.
     */
    cursor: exportCursor.nullable().optional(),
    limit: z.number().int().min(1).max(SUMMARY_PAGE_ROWS).default(SUMMARY_PAGE_ROWS),
  }),
  /** POST /data/v2/customers: the ids that have at least one row, in order, a page at a time. */
  customers: z.strictObject({ after: z.string().nullable().default(null), limit: z.number().int().min(1).max(10_000).default(1_000) }),
  /**
   * POST /data/v2/export: the next page of these customers' rows, up to `limit` rows over as many
   * tables as fit, parents' tables first. With `barrier`, the cell first bars these customers (as POST
   * /barrier does) in the same transaction, so a copy starts from rows no write can change any more.
   * With `summary`, the answer that ends the export (`next` null) also carries these customers'
   * summary, read in the same transaction as that page.
   */
  export: z.strictObject({
    customers,
    cursor: exportCursor.nullable().default(null),
    limit: z.number().int().min(1).max(PAGE_ROWS).default(PAGE_ROWS),
    barrier: z.strictObject({ move, fencing }).optional(),
    summary: z.boolean().default(false),
    /** Each section carries the checksum of its rows (an online copy checks every page as it goes). */
    checksums: z.boolean().default(false),
  }),
  /**
   * POST /data/v2/import: stores one exported page, in one transaction, writing the cell's own id into
   * each table's cell column. It passes this cell's own barrier (a move bars the target too while it
   * copies, so the target's app cannot change rows that are still being compared). Idempotent per
   * (move, page key): a page already stored is not stored again. With `summary`, the answer carries
   * these customers' summary as stored; with `lift`, the transaction ends by lifting this cell's
   * barrier for them (the last page of a move: the target is about to own them).
   *
   * Rows are JSON text that SQLite reads itself (rows.ts); their values are checked there, before
   * anything is stored.
   */
  import: z.strictObject({
    move,
    fencing,
    customers,
    page: z.strictObject({
      key: z.string().min(1).max(200),
      sections: z.array(pageSection).min(1),
    }),
    summary: z.boolean().default(false),
    lift: z.boolean().default(false),
    /** The answer's `tables` carry the checksum of the rows stored, read back. */
    checksums: z.boolean().default(false),
    /**
     * The page may hold rows whose parents come later (an online copy reads each table while the
     * customer writes): foreign keys are not enforced for it, and a row whose key or unique value the
     * cell already holds is skipped and reported (`skipped`), not a conflict. The copy ends as the
     * source is, once the captured changes are applied; the customer is barred here until then.
     */
    unordered: z.boolean().default(false),
  }),
  /**
   * POST /data/v2/purge: deletes up to `limit` of these customers' rows, children's tables first, in one
   * transaction. When none are left (`done`), their barrier on this cell becomes a tombstone (this cell
   * refuses their writes until a move brings them back: import with `lift`, or unbar) and the import
   * ledger of the move is forgotten.
   */
  purge: z.strictObject({ move, fencing, customers, limit: z.number().int().min(1).max(PAGE_ROWS).default(PAGE_ROWS) }),
  /** POST /data/v2/barrier: from now on this cell refuses every write to these customers' rows. */
  barrier: z.strictObject({ move, fencing, customers }),
  /** POST /data/v2/unbar: the customers live here: lifts the barrier and drops a tombstone (a move rolled back; the target, once it owns them; a placement). */
  unbar: z.strictObject({ move, fencing, customers }),
  /**
   * POST /data/v2/capture: from now on the cell records the key of every row of these customers that
   * a write touches, for `move` (capture.ts); a move started again forgets its earlier changes. 422
   * not_keyed when a declared table has no primary key.
   */
  capture: z.strictObject({ move, fencing, customers }),
  /** POST /data/v2/capture/stop: stops the capture; the last one to stop removes the triggers and the change table. */
  captureStop: z.strictObject({ move, fencing, customers }),
  /**
   * POST /data/v2/changes: the rows of `move`'s changes after `after` (at most `limit` changes), as
   * they are now: a page of the rows that exist (with checksums), and the keys of those that no longer
   * do (or no longer belong to these customers). With `barrier`, the cell first bars the customers in
   * the same transaction: no change can follow. 409 not_capturing when no capture of `move` runs.
   */
  changes: z.strictObject({
    move,
    customers,
    after: z.number().int().min(0),
    limit: z.number().int().min(1).max(PAGE_ROWS).default(PAGE_ROWS),
    barrier: z.strictObject({ move, fencing }).optional(),
  }),
  /**
   * POST /data/v2/apply: stores a page of changes in one transaction, passing this cell's barrier: the
   * keys in `deletes` go (children's tables first), then the rows of `page` are inserted or replace the
   * row with their key (parents first). Foreign keys are not enforced (as for an `unordered` import):
   * changes arrive row by row, a cascade's too, so the end state is the source's. Idempotent. Answers
   * each table's rows and checksum of the keys touched, before and after.
   */
  apply: z.strictObject({
    move,
    fencing,
    customers,
    sections: z.array(pageSection).max(1_000),
    deletes: z.array(z.strictObject({ table: z.string().min(1), keys: z.string() })).max(1_000),
  }),
};

export type SummaryRequest = z.input<typeof requests.summary>;
export type CustomersRequest = z.input<typeof requests.customers>;
export type ExportRequest = z.input<typeof requests.export>;
export type ImportRequest = z.input<typeof requests.import>;
export type PurgeRequest = z.input<typeof requests.purge>;
export type BarrierRequest = z.input<typeof requests.barrier>;
export type ChangesRequest = z.input<typeof requests.changes>;
export type ApplyRequest = z.input<typeof requests.apply>;

/** Checksums are sums of 32-bit row hashes kept below 2^52, so they stay exact JSON numbers. */
export const CHECKSUM_MODULUS = 2 ** 52;

/** Checksums (or a checksum and its parts, added or taken away) combined: the sum, mod 2^52. */
export const sumChecksums = (...terms: number[]): number => {
  // Reduced at every step: each partial sum stays below 2^53, so no term is rounded.
  const total = terms.reduce((sum, term) => (sum + term) % CHECKSUM_MODULUS, 0);
  return total < 0 ? total + CHECKSUM_MODULUS : total;
};

/** Rows and the order-independent checksum of a set of rows (the sum of each row's hash, mod 2^52). */
export interface RowsSummary {
  rows: number;
  checksum: number;
}

/** GET /data/v2/info */
export interface InfoAnswer {
  api: typeof DATA_API_VERSION;
  cell_id: string;
  schema_version: number;
  tables: { table: string; customer_column: string; parent: string | null; cell_column: string | null }[];
  /** How the write barrier is enforced: always triggers on the declared tables. */
  barrier: 'triggers';
  /** Null when this cell's customers can move online (every declared table has a primary key), else why not. */
  online: string | null;
  /** The highest fencing number this cell has seen (0: none). Above the control plane's sequence, the plane is behind its cells. */
  fencing: number;
}

export interface SummaryAnswer {
  tables: ({ table: string } & RowsSummary)[];
  /** A paged summary's next cursor (null: that was the last page); absent when not paged. */
  next?: ExportCursor | null;
}

export interface CustomersAnswer {
  customers: string[];
  /** Pass as `after` for the next page; null at the end. */
  next: string | null;
}

/** One table's rows in a page. */
export interface PageSection {
  table: string;
  columns: string[];
  /** How many rows `rows` holds. */
  count: number;
  /** With `checksums` asked for: the checksum of this section's rows (rows.ts). */
  checksum?: number;
  /**
   * A JSON array of rows, each an array of values in the order of `columns`, as text: the source's
   * SQLite writes it, the target parses it once and checks each value (rows.ts). A value is null,
   * text, an integer within ±(2^53−1), {"$i": "<digits>"} (a larger INTEGER), {"$r": "<decimal>"}
   * (a REAL, exact) or {"$x": "<hex>"} (a BLOB).
   */
  rows: string;
}

export interface ExportPage {
  /** Names the page for import's idempotence: `<first table>:<its first rowid>`. */
  key: string;
  /** Parents' tables first; a table may continue in the next page. */
  sections: PageSection[];
}

export interface ExportAnswer {
  /** Null when these customers have no rows left to send. */
  page: ExportPage | null;
  /** Pass as `cursor` for the next page; null at the end. */
  next: ExportCursor | null;
  /** With `summary` asked for, on the answer whose `next` is null. */
  summary?: SummaryAnswer['tables'];
}

/** What the target stored for a page. */
export interface ImportAnswer {
  /** Rows the page stored (now, or the first time when replayed). */
  rows: number;
  /** Rows stored per table now (with `checksums`, their checksum read back; `unordered`, the rows skipped); empty when replayed. */
  tables: { table: string; rows: number; checksum?: number; skipped?: SkippedRows }[];
  /** True when this page had been stored before (a retried request); nothing was written now. */
  replayed: boolean;
  /** With `summary` asked for: these customers' summary as stored, read in the import's transaction. */
  summary?: SummaryAnswer['tables'];
}

/** Rows an unordered import skipped because the cell already held their key or a unique value of theirs: their changes settle them. */
export interface SkippedRows {
  count: number;
  /** Their checksum as the source computed it (the page's checksum less this is what was stored). */
  checksum: number;
  /** The table's key columns, and the skipped rows' keys: a JSON array of arrays of wire values. */
  key: string[];
  keys: string;
}

export interface CaptureAnswer {
  customers: string[];
  /** How many customers this cell captures changes of now (0: the triggers and the change table are gone). */
  capturing: number;
}

export interface ChangesAnswer {
  /** The rows of the changed keys that exist now (parents' tables first), each section with its checksum; null when none. */
  sections: PageSection[];
  /** Per table, a JSON array of keys (each an array of wire values) whose rows are gone or are no longer these customers'. */
  deletes: { table: string; keys: string }[];
  /** The last change this answer covers: `after` for the next call. */
  last: number;
  /** Changes recorded after `last`. */
  left: number;
}

export interface ApplyAnswer {
  /** Per declared table, the rows and checksum of the keys this page touched, before and after it. */
  before: ({ table: string } & RowsSummary)[];
  after: ({ table: string } & RowsSummary)[];
}

export interface PurgeAnswer {
  removed: number;
  done: boolean;
}

export interface BarrierAnswer {
  customers: string[];
}

/** GET /data/v2/barriers */
export interface BarriersAnswer {
  barriers: { customer: string; move: number; since: string }[];
  /** Customers purged here because they live elsewhere: their writes are refused here. */
  tombstones: { customer: string; fencing: number; since: string }[];
}

/**
 * Error answers are `{"error": text, "code": code}`, with these codes:
 * 400 bad_request (the body does not match the request schema; the text lists each problem),
 * 401 unauthorized, 404 not_found, 409 stale_owner (a higher fencing number was seen for one of
 * these customers), 409 conflict (an imported row collides with one the cell already has: a unique
 * key, or a parent row that is missing; nothing of the page was written), 413 body_too_large,
 * 422 not_declared (a table or column the template does not declare as customer data, or a row of a
 * customer not named in the request), 503 database_busy.
 */
export const DATA_ERROR_CODES = [
  'bad_request',
  'unauthorized',
  'not_found',
  'stale_owner',
  'not_capturing',
  'conflict',
  'body_too_large',
  'not_declared',
  'not_keyed',
  'database_busy',
] as const;
export type DataErrorCode = (typeof DATA_ERROR_CODES)[number];

/** What the engine, audit and `customers show` use: one implementation (HTTP), for cells on any host. */
export interface DataApi {
  readonly cellId: string;
  info(): Promise<InfoAnswer>;
  summary(customerIds: readonly string[], options?: { checksums?: boolean; cursor?: ExportCursor | null; limit?: number }): Promise<SummaryAnswer>;
  customers(after: string | null, limit?: number): Promise<CustomersAnswer>;
  export(request: ExportRequest): Promise<ExportAnswer>;
  import(request: ImportRequest): Promise<ImportAnswer>;
  purge(request: PurgeRequest): Promise<PurgeAnswer>;
  barrier(request: BarrierRequest): Promise<BarrierAnswer>;
  unbar(request: BarrierRequest): Promise<BarrierAnswer>;
  barriers(): Promise<BarriersAnswer>;
  capture(request: BarrierRequest): Promise<CaptureAnswer>;
  captureStop(request: BarrierRequest): Promise<CaptureAnswer>;
  changes(request: ChangesRequest): Promise<ChangesAnswer>;
  apply(request: ApplyRequest): Promise<ApplyAnswer>;
}

/** A data API token's one rule, for every side that reads one (serve, cell-agent, cells register). */
export const MIN_DATA_TOKEN = 16;
const MAKE_ONE = 'make one with: head -c 24 /dev/urandom | base64 > FILE';

/** What is wrong with a data API token (to follow "the token in FILE"), or null. */
export function dataTokenProblem(token: string): string | null {
  if (token.length < MIN_DATA_TOKEN) return `has ${token.length} characters; a data API token has at least ${MIN_DATA_TOKEN} (${MAKE_ONE})`;
  if (/\s/.test(token)) return `contains white space: it must be one line with no spaces (${MAKE_ONE})`;
  return null;
}
