// The dashboard's view-model: tiles, moves, batches and events as pure functions of what the
// sampler read (the status report, the router's latency histogram, cells' metrics, the journal).
import type { EventRecord, MigrationRecord } from '../control/plane.js';
import { stepsOf } from '../control/plane.js';
import { judgeHealth, type ProcessRow, type StatusReport } from '../status/model.js';
import { bucketDelta, quantile, totalBuckets, type LatencyBuckets } from './latency.js';
import type { BatchRow, Chart, DashboardView, EventRow, Health, MoveRow, Tile, TrafficRow } from './protocol.js';
import { errorRatio, ratePerSecond, SeriesSet } from './series.js';
import { trafficRows } from './traffic.js';

export const ROUTER_TILE = 'router';

export function healthOf(row: Pick<ProcessRow, 'state' | 'healthy'>): Health {
  if (row.state === 'stopped') return 'stopped';
  if (row.state === 'starting') return 'starting';
  // A registered cell runs elsewhere: healthy when it answers at its URL, as status and health say.
  if ((row.state === 'running' || row.state === 'orphaned' || row.state === 'registered') && row.healthy === true) return 'healthy';
  return 'unhealthy';
}

/** The supervisor's events that a tile and the incidents strip keep in view for an hour. */
export const INCIDENT_KINDS: ReadonlySet<string> = new Set(['process.crashed', 'process.hung', 'process.failed', 'process.killed', 'process.unhealthy']);
const INCIDENT_WINDOW_MS = 60 * 60_000;
const INCIDENTS_SHOWN = 10;
/** Events sent to the page, which filters them by kind and subject. */
const EVENTS_SHOWN = 200;
const ENDED_BATCHES_SHOWN = 5;

interface Figures {
  rps: number | null;
  errorRate: number | null;
  p99Ms: number | null;
}

interface Counters {
  t: number;
  requests: number;
  errors: number;
}

/**
 * Turns successive readings into rates, p99s and their recent series. The only state the dashboard
 * keeps: the previous counters, a few seconds of histogram readings, and a few minutes of series.
 */
export class Tracker {
  private readonly previous = new Map<string, Counters>();
  private latency: { t: number; buckets: LatencyBuckets }[] = [];
  readonly series: SeriesSet;

  constructor(
    windowMs = 5 * 60_000,
    readonly latencyWindowMs = 10_000,
  ) {
    this.series = new SeriesSet(windowMs);
  }

  /** Figures per tile (cells by id, the router as ROUTER_TILE) for a reading taken at `now`. */
  observe(now: number, report: StatusReport, buckets: LatencyBuckets | null): Map<string, Figures> {
    if (buckets) this.latency = [...this.latency.filter((old) => old.t >= now - this.latencyWindowMs && old.t < now), { t: now, buckets }];
    const oldest = this.latency[0];
    const newest = this.latency.at(-1);
    const p99 = (of: (b: LatencyBuckets) => { le: number; count: number }[]): number | null => {
      if (!oldest || !newest || oldest === newest) return null;
      const seconds = quantile(bucketDelta(of(newest.buckets), of(oldest.buckets)), 0.99);
      return seconds === null ? null : seconds * 1000;
    };
    const figures = new Map<string, Figures>();
    const counted = report.cells.filter((cell) => cell.requests !== null);
    // The router counts per cell only; with no cell counted, it did not answer (or serves none yet).
    const routerCounters =
      counted.length === 0
        ? null
        : { requests: counted.reduce((sum, cell) => sum + (cell.requests ?? 0), 0), errors: counted.reduce((sum, cell) => sum + (cell.errors ?? 0), 0) };
    for (const cell of report.cells) {
      const counters = cell.requests === null ? null : { requests: cell.requests, errors: cell.errors ?? 0 };
      figures.set(
        cell.id,
        this.figure(
          cell.id,
          now,
          counters,
          p99((b) => b.get(cell.id) ?? []),
        ),
      );
    }
    figures.set(ROUTER_TILE, this.figure(ROUTER_TILE, now, routerCounters, p99(totalBuckets)));
    return figures;
  }

  private figure(id: string, now: number, counters: { requests: number; errors: number } | null, p99Ms: number | null): Figures {
    const before = this.previous.get(id);
    const reading = counters ? { t: now, ...counters } : undefined;
    if (reading) this.previous.set(id, reading);
    else this.previous.delete(id);
    const rps = reading ? ratePerSecond(before && { t: before.t, count: before.requests }, { t: now, count: reading.requests }) : null;
    const errorRate = reading ? errorRatio(before, reading) : null;
    this.series.push(`${id}.rps`, { t: now, v: rps });
    this.series.push(`${id}.p99`, { t: now, v: p99Ms });
    return { rps, errorRate, p99Ms };
  }

  chart(id: string): Chart {
    const rps = this.series.get(`${id}.rps`);
    const p99 = this.series.get(`${id}.p99`);
    return { t: rps.map((point) => point.t / 1000), rps: rps.map((point) => point.v), p99Ms: p99.map((point) => point.v) };
  }
}

const numbersOnly = (metrics: Record<string, unknown> | null | undefined): Record<string, number> =>
  Object.fromEntries(Object.entries(metrics ?? {}).filter((entry): entry is [string, number] => typeof entry[1] === 'number' && entry[0] !== 'timestamp'));

/** An online move's last journaled progress (migration/online-copy.ts's OnlineProgress), or null. */
function onlineOf(migration: MigrationRecord): MoveRow['online'] {
  if (migration.detail.online !== true) return null;
  const progress = migration.detail.progress as Record<string, unknown> | undefined;
  const number = (value: unknown) => (typeof value === 'number' ? value : 0);
  return {
    phase: typeof progress?.phase === 'string' ? progress.phase : 'copying',
    rows: number(progress?.rows),
    totalRows: number(progress?.totalRows ?? migration.detail.totalRows),
    lag: number(progress?.lag),
  };
}

export function moveRow(migration: MigrationRecord, interrupted: ReadonlySet<number>): MoveRow {
  const steps: readonly string[] = stepsOf(migration.detail.online === true);
  const progress = migration.state !== 'running' ? migration.state : interrupted.has(migration.id) ? 'interrupted' : 'running';
  return {
    id: migration.id,
    customerId: migration.customerId,
    from: migration.sourceCell,
    to: migration.targetCell,
    progress,
    step: migration.step,
    fraction: migration.state === 'done' ? 1 : (steps.indexOf(migration.step) + 1) / steps.length,
    online: onlineOf(migration),
    batch: migration.batch,
    startedAt: migration.startedAt,
    updatedAt: migration.updatedAt,
    error: migration.error,
    fix: progress === 'interrupted' ? [`cellctl migrate resume ${migration.id}`, `cellctl migrate abort ${migration.id}`] : [],
  };
}

/** Whether a move is part of a bulk run (a drain or a rebalance), shown in its batch's row. */
const inBatch = (migration: MigrationRecord): boolean => migration.batch !== null && !migration.batch.startsWith('reverse-of-');

/**
 * A bulk run's progress, one row for all its moves: done and running under one batch id; what is
 * left is known for a drain (the customers still in its draining source cells), else only the
 * running ones. Running batches first, then the latest ended ones.
 */
export function batchRows(migrations: readonly MigrationRecord[], report: StatusReport, ended = ENDED_BATCHES_SHOWN): BatchRow[] {
  const byBatch = new Map<string, MigrationRecord[]>();
  for (const migration of migrations) if (inBatch(migration)) byBatch.set(migration.batch!, [...(byBatch.get(migration.batch!) ?? []), migration]);
  const rows = [...byBatch].map(([batch, moves]) => batchRow(batch, moves, report));
  const latest = (row: BatchRow) => Math.max(...byBatch.get(row.batch)!.map((m) => m.id));
  const running = rows.filter((row) => row.progress === 'running');
  const done = rows
    .filter((row) => row.progress === 'ended')
    .sort((a, b) => latest(b) - latest(a))
    .slice(0, ended);
  return [...running, ...done];
}

function batchRow(batch: string, moves: MigrationRecord[], report: StatusReport): BatchRow {
  const running = moves.filter((m) => m.state === 'running').length;
  const done = moves.filter((m) => m.state === 'done').length;
  const failed = moves.filter((m) => m.state === 'failed' || m.state === 'aborted').length;
  const sources = [...new Set(moves.map((m) => m.sourceCell))].sort();
  const sourceCells = report.cells.filter((cell) => sources.includes(cell.id));
  const draining = running > 0 && sourceCells.length === sources.length && sourceCells.every((cell) => cell.status === 'draining');
  const remaining = draining
    ? Math.max(
        running,
        sourceCells.reduce((sum, cell) => sum + cell.customers, 0),
      )
    : running;
  const first = Math.min(...moves.map((m) => Date.parse(m.startedAt)));
  const last = Math.max(...moves.map((m) => Date.parse(m.updatedAt)));
  const perSecond = done > 0 && last > first ? (done * 1000) / (last - first) : null;
  return {
    batch,
    progress: running > 0 ? 'running' : 'ended',
    sources,
    done,
    running,
    failed,
    remaining,
    fraction: done + remaining === 0 ? 1 : done / (done + remaining),
    etaSeconds: running > 0 && perSecond ? Math.ceil(remaining / perSecond) : null,
  };
}

/**
 * Every running move and the latest others, newest first. A bulk run's moves are its batch's row
 * instead, but for those that need a hand (interrupted or failed), which keep a card of their own.
 */
export function shownMoves(migrations: readonly MigrationRecord[], recent = 15, interrupted: ReadonlySet<number> = new Set()): MigrationRecord[] {
  const needsHand = (m: MigrationRecord) => interrupted.has(m.id) || m.state === 'failed';
  const own = [...migrations].filter((m) => !inBatch(m) || needsHand(m)).sort((a, b) => b.id - a.id);
  const ended = own.filter((m) => m.state !== 'running').slice(0, recent);
  return own.filter((m) => m.state === 'running' || ended.includes(m));
}

export interface ViewInputs {
  now: number;
  report: StatusReport;
  figures: Map<string, Figures>;
  tracker: Tracker;
  cellMetrics: Map<string, Record<string, unknown> | null>;
  /** The journal's latest migrations (running ones included). */
  migrations: MigrationRecord[];
  /** The latest events, newest first. */
  events: EventRecord[];
  /** Each router's rejections and its cells' error answers, read from its metrics (traffic.ts); none when none answered. */
  traffic?: TrafficRow[];
}

const eventRow = (event: EventRecord): EventRow => ({
  id: event.id,
  at: event.at,
  source: event.source,
  kind: event.kind,
  subject: event.subject,
  message: event.message,
});

/** The supervisor's incidents of the last hour, newest first. */
function recentIncidents(inputs: ViewInputs): EventRecord[] {
  return inputs.events.filter((event) => INCIDENT_KINDS.has(event.kind) && Date.parse(event.at) >= inputs.now - INCIDENT_WINDOW_MS);
}

type TileBase = Omit<Tile, 'template' | 'status' | 'customers' | 'capacity' | 'figures' | 'host'>;

function tile(id: string, kind: Tile['kind'], row: ProcessRow, inputs: ViewInputs, incidents: readonly EventRecord[]): TileBase {
  const figures = inputs.figures.get(id) ?? { rps: null, errorRate: null, p99Ms: null };
  // The supervisor names its processes as the tiles are named (the router is ROUTER_TILE).
  const own = incidents.filter((event) => event.subject === id);
  return {
    id,
    kind,
    state: row.state,
    health: healthOf(row),
    ...figures,
    p99WindowSeconds: inputs.tracker.latencyWindowMs / 1000,
    restarts: row.restarts,
    incidentsLastHour: own.length,
    lastIncidentAt: own[0]?.at ?? null,
    pid: row.pid,
    port: row.port,
    uptimeSeconds: row.uptimeSeconds,
    lastError: row.lastError,
    chart: inputs.tracker.chart(id),
  };
}

/** The routers: the workspace's own (unless it is stopped while others run), then every other one the control plane lists, live or stale, with its host. */
function routerTiles(inputs: ViewInputs, incidents: readonly EventRecord[]): Tile[] {
  const { report } = inputs;
  const router = report.router;
  const others = report.routers.filter((registered) => registered.id !== router.id);
  const own: Tile[] =
    router.state === 'stopped' && others.length > 0
      ? []
      : [
          {
            ...tile(ROUTER_TILE, 'router', router, inputs, incidents),
            host: null,
            template: null,
            status: null,
            customers: router.customersMapped,
            capacity: report.cells.reduce((sum, cell) => sum + cell.capacity, 0),
            figures: router.mappingVersion === null ? {} : { mapping_version: router.mappingVersion },
          },
        ];
  return [
    ...own,
    ...others.map((registered): Tile => ({
      id: registered.id,
      kind: 'router',
      host: registered.host,
      state: registered.live ? 'live' : 'stale',
      health: registered.live && registered.mapping?.confirmed !== false ? 'healthy' : 'unhealthy',
      rps: null,
      errorRate: null,
      p99Ms: null,
      p99WindowSeconds: inputs.tracker.latencyWindowMs / 1000,
      restarts: 0,
      incidentsLastHour: 0,
      lastIncidentAt: null,
      pid: registered.pid,
      port: Number(new URL(registered.publicUrl).port) || null,
      uptimeSeconds: null,
      lastError: registered.live ? null : `no heartbeat for ${Math.round(registered.heartbeatAgeMs / 1000)} s`,
      template: null,
      status: null,
      customers: null,
      capacity: null,
      figures: { heartbeat_age_ms: registered.heartbeatAgeMs },
      chart: { t: [], rps: [], p99Ms: [] },
    })),
  ];
}

export function buildView(inputs: ViewInputs): DashboardView {
  const { report } = inputs;
  const verdict = judgeHealth(report);
  const interrupted = new Set(report.migrationsNeedingAttention.map((m) => m.id));
  const incidents = recentIncidents(inputs);
  return {
    at: new Date(inputs.now).toISOString(),
    home: report.home,
    supervisor: report.supervisor.state,
    healthy: verdict.healthy,
    problems: verdict.problems,
    routers: routerTiles(inputs, incidents),
    cells: report.cells.map((cell) => ({
      ...tile(cell.id, 'cell', cell, inputs, incidents),
      host: cell.managed ? null : new URL(cell.url).hostname,
      template: cell.template,
      status: cell.status,
      customers: cell.customers,
      capacity: cell.capacity,
      figures: numbersOnly(inputs.cellMetrics.get(cell.id)),
    })),
    moves: shownMoves(inputs.migrations, 15, interrupted).map((migration) => moveRow(migration, interrupted)),
    batches: batchRows(inputs.migrations, report),
    events: inputs.events.slice(0, EVENTS_SHOWN).map(eventRow),
    incidents: incidents.slice(0, INCIDENTS_SHOWN).map(eventRow),
    traffic: trafficRows(inputs.traffic ?? []),
  };
}
