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
  /** Where it runs: a registered router's host, a cell's address when it is not this machine's; null otherwise. */
  host: string | null;
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
  /** The p99 over the last `p99WindowSeconds` only (null: no request meanwhile). */
  p99Ms: number | null;
  p99WindowSeconds: number;
  restarts: number;
  /** Crashes and restarts (the supervisor's events) in the last hour, and when the latest was; a cell killed and back within a second still shows. */
  incidentsLastHour: number;
  lastIncidentAt: string | null;
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
  /** Steps completed of all the steps of its kind of copy (0..1). */
  fraction: number;
  /** An online move's phase as its mover last journaled it (copying: rows of all; catching up: changes behind), else null. */
  online: { phase: string; rows: number; totalRows: number; lag: number } | null;
  batch: string | null;
  startedAt: string;
  updatedAt: string;
  error: string | null;
  /** For an interrupted move: the commands that finish it. */
  fix: string[];
}

/** A drain's or rebalance's moves, journaled under one batch id: one row for all of them, running or ended. */
export interface BatchRow {
  batch: string;
  /** running while any of its moves runs, else ended. */
  progress: 'running' | 'ended';
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

/** Requests the routers answered themselves, by reason, and the cells' 4xx and 5xx answers, from each router's metrics (counts since it started). */
export interface TrafficRow {
  /** A router's id, or "all routers" for the sum. */
  router: string;
  rejected: Record<string, number>;
  cells: Record<string, { '4xx': number; '5xx': number }>;
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
  /** The latest events, newest first (the page filters them by kind and subject). */
  events: EventRow[];
  /** Crashes, restarts, hangs and failed health checks of the last hour, newest first. */
  incidents: EventRow[];
  /** Per router that answered, then their sum (when more than one did). */
  traffic: TrafficRow[];
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
