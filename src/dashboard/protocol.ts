// What the dashboard server sends the page (each Server-Sent Event carries one DashboardView; the
// customer search answers a CustomerAnswer). Types only: the server and the page both import them.

/** A word for every colour the page shows, so colour is never the only signal. */
export type Health = 'healthy' | 'unhealthy' | 'starting' | 'stopped';

export interface Chart {
  /** Seconds since the epoch (uPlot's x axis). */
  t: number[];
  rps: (number | null)[];
  p99Ms: (number | null)[];
}

export interface Tile {
  id: string;
  kind: 'cell' | 'router';
  /** The supervisor's word for the process: running, starting, backoff, crashed, stopped... */
  state: string;
  health: Health;
  template: string | null;
  /** A cell's placement status (active, draining); null for the router. */
  status: string | null;
  customers: number | null;
  capacity: number | null;
  rps: number | null;
  /** Errors per request over the last tick (0..1); null when no request was made. */
  errorRate: number | null;
  p99Ms: number | null;
  restarts: number;
  pid: number | null;
  port: number | null;
  uptimeSeconds: number | null;
  lastError: string | null;
  /** The cell's own figures from its /metrics (numbers only), or the router's. */
  figures: Record<string, number>;
  chart: Chart;
}

export interface MoveRow {
  id: number;
  customerId: string;
  from: string;
  to: string;
  /** running (in progress), interrupted (nobody runs it), done, aborted or failed. */
  progress: 'running' | 'interrupted' | 'done' | 'aborted' | 'failed';
  step: string;
  /** Steps completed of all steps (0..1). */
  fraction: number;
  batch: string | null;
  startedAt: string;
  updatedAt: string;
  error: string | null;
  /** For an interrupted move: the commands that finish it. */
  fix: string[];
}

/** A drain's or rebalance's moves, journaled under one batch id. */
export interface BatchRow {
  batch: string;
  sources: string[];
  done: number;
  running: number;
  failed: number;
  /** Moves still to make, when known (a drain: customers left in the draining cells). */
  remaining: number;
  fraction: number;
  etaSeconds: number | null;
}

export interface EventRow {
  id: number;
  at: string;
  source: string;
  kind: string;
  subject: string;
  message: string;
}

export interface DashboardView {
  at: string;
  home: string;
  supervisor: 'running' | 'stopped';
  healthy: boolean;
  problems: string[];
  routers: Tile[];
  cells: Tile[];
  moves: MoveRow[];
  batches: BatchRow[];
  events: EventRow[];
}

export interface CustomerAnswer {
  customerId: string;
  cell: string | null;
  rule: string;
  explanation: string;
  fenced: boolean;
  /** Rows per table in every readable cell that holds any; null when they could not be read at all. */
  rows: Record<string, Record<string, number>> | null;
  /** Why the rows (or some cells' rows, named) could not be read. */
  rowsError: string | null;
}
