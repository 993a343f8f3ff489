// The client of a cell's data API (src/data/protocol.ts), over HTTP with kept-alive connections: what
// the migration engine, audit and `customers show` use to reach a cell's rows, wherever it runs.
import axios, { type AxiosInstance, isAxiosError } from 'axios';
import http from 'node:http';
import {
  type ApplyAnswer,
  type ApplyRequest,
  type BarrierAnswer,
  type BarrierRequest,
  type CaptureAnswer,
  type ChangesAnswer,
  type ChangesRequest,
  type BarriersAnswer,
  type CustomersAnswer,
  DATA_API_PREFIX,
  type DataApi,
  type ExportAnswer,
  type ExportCursor,
  type ExportRequest,
  type ImportAnswer,
  type ImportRequest,
  type InfoAnswer,
  MAX_DATA_BODY_BYTES,
  SUMMARY_PAGE_ROWS,
  sumChecksums,
  type PurgeAnswer,
  type PurgeRequest,
  type SummaryAnswer,
} from './protocol.js';

/** An answer of the data API other than 2xx: its status and code (protocol.ts's DATA_ERROR_CODES). */
export class DataApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
    this.name = 'DataApiError';
  }
}

/** The data API could not be reached at all (refused, timed out, reset): nothing is known of the call's effect. */
export class DataApiUnreachable extends Error {
  constructor(
    message: string,
    /** The socket's reason alone (ECONNREFUSED, ECONNABORTED for a timeout, …). */
    readonly reason: string,
  ) {
    super(message);
    this.name = 'DataApiUnreachable';
  }
}

export interface DataClientOptions {
  /** Per request; an import page of PAGE_ROWS rows takes well under a second on one host. */
  timeoutMs?: number;
}

export class HttpDataApi implements DataApi {
  private readonly http: AxiosInstance;
  // Nagle off: a request is headers then a body in two writes, and the second must not wait for the
  // server's delayed ACK of the first (40 ms) inside a move's fence.
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4, noDelay: true } as http.AgentOptions);

  constructor(
    readonly cellId: string,
    readonly url: string,
    token: string,
    options: DataClientOptions = {},
  ) {
    this.http = axios.create({
      baseURL: `${url.replace(/\/$/, '')}${DATA_API_PREFIX}`,
      timeout: options.timeoutMs ?? 30_000,
      headers: { authorization: `Bearer ${token}` },
      httpAgent: this.agent,
      maxBodyLength: MAX_DATA_BODY_BYTES,
      maxContentLength: MAX_DATA_BODY_BYTES,
      validateStatus: () => true,
      // A proxy from the environment must never sit between cellctl and a cell's rows.
      proxy: false,
      // The API never redirects; 0 also makes axios use node:http itself, not follow-redirects' wrapper (less work per call).
      maxRedirects: 0,
    });
  }

  private async call<T>(method: 'get' | 'post', path: string, body?: unknown): Promise<T> {
    let response;
    try {
      response = method === 'get' ? await this.http.get(path) : await this.http.post(path, body);
    } catch (error) {
      const reason = isAxiosError(error) ? (error.code ?? error.message) : String(error);
      throw new DataApiUnreachable(
        `cannot reach the data API of cell ${this.cellId} at ${this.url} (${reason}): is the cell running? "cellctl status" shows it`,
        reason,
      );
    }
    if (response.status >= 200 && response.status < 300) return response.data as T;
    const data = (response.data ?? {}) as { error?: unknown; code?: unknown };
    const code = typeof data.code === 'string' ? data.code : 'error';
    const text = typeof data.error === 'string' ? data.error : `HTTP ${response.status}`;
    throw new DataApiError(`the data API of cell ${this.cellId} (${this.url}) answered ${response.status} ${code}: ${text}`, response.status, code);
  }

  info(): Promise<InfoAnswer> {
    return this.call('get', '/info');
  }
  summary(customerIds: readonly string[], options?: { checksums?: boolean; cursor?: ExportCursor | null; limit?: number }): Promise<SummaryAnswer> {
    return this.call('post', '/summary', { customers: customerIds, ...options });
  }
  customers(after: string | null, limit = 1_000): Promise<CustomersAnswer> {
    return this.call('post', '/customers', { after, limit });
  }
  export(request: ExportRequest): Promise<ExportAnswer> {
    return this.call('post', '/export', request);
  }
  import(request: ImportRequest): Promise<ImportAnswer> {
    return this.call('post', '/import', request);
  }
  purge(request: PurgeRequest): Promise<PurgeAnswer> {
    return this.call('post', '/purge', request);
  }
  barrier(request: BarrierRequest): Promise<BarrierAnswer> {
    return this.call('post', '/barrier', request);
  }
  unbar(request: BarrierRequest): Promise<BarrierAnswer> {
    return this.call('post', '/unbar', request);
  }
  barriers(): Promise<BarriersAnswer> {
    return this.call('get', '/barriers');
  }
  capture(request: BarrierRequest): Promise<CaptureAnswer> {
    return this.call('post', '/capture', request);
  }
  captureStop(request: BarrierRequest): Promise<CaptureAnswer> {
    return this.call('post', '/capture/stop', request);
  }
  changes(request: ChangesRequest): Promise<ChangesAnswer> {
    return this.call('post', '/changes', request);
  }
  apply(request: ApplyRequest): Promise<ApplyAnswer> {
    return this.call('post', '/apply', request);
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Every customer id that has rows in the cell, page by page. */
export async function allCustomersIn(api: DataApi): Promise<Set<string>> {
  const found = new Set<string>();
  let after: string | null = null;
  for (;;) {
    const page: CustomersAnswer = await api.customers(after, 5_000);
    for (const id of page.customers) found.add(id);
    if (page.next === null) return found;
    after = page.next;
  }
}

/**
 * These customers' summary read page by page (protocol.ts's paged summary): no read keeps the cell
 * busy for long, whatever the customers' size. The pages add up to the whole only for rows that do
 * not change meanwhile: a barred customer's, or counts taken as an estimate.
 */
export async function summaryInPages(api: DataApi, customers: readonly string[], checksums: boolean): Promise<SummaryAnswer['tables']> {
  const totals = new Map<string, { rows: number; checksum: number }>();
  let cursor: ExportCursor | null = null;
  for (;;) {
    // Hashing a row costs far more than counting it: a page of checksums is a fifth of a page of counts.
    const page: SummaryAnswer = await api.summary(customers, { checksums, cursor, limit: checksums ? SUMMARY_PAGE_ROWS / 5 : SUMMARY_PAGE_ROWS });
    for (const table of page.tables) {
      const total = totals.get(table.table) ?? { rows: 0, checksum: 0 };
      totals.set(table.table, { rows: total.rows + table.rows, checksum: sumChecksums(total.checksum, table.checksum) });
    }
    if (!page.next) return [...totals].map(([table, total]) => ({ table, ...total }));
    cursor = page.next;
  }
}
