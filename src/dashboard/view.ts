// The dashboard's view-model: tiles, moves, batches and events as pure functions of what the
// sampler read (the status report, the router's latency histogram, cells' metrics, the journal).
import type { EventRecord, MigrationRecord } from '../control/plane.js';
import { MIGRATION_STEPS } from '../control/plane.js';
import { judgeHealth, type ProcessRow, type StatusReport } from '../status/model.js';
import { bucketDelta, quantile, totalBuckets, type LatencyBuckets } from './latency.js';
import type { BatchRow, Chart, DashboardView, EventRow, Health, MoveRow, Tile } from './protocol.js';
import { errorRatio, ratePerSecond, SeriesSet } from './series.js';

export const ROUTER_TILE = 'router';

export function healthOf(row: Pick<ProcessRow, 'state' | 'healthy'>): Health {
  if (row.state === 'stopped') return 'stopped';
  if (row.state === 'starting') return 'starting';
  if ((row.state === 'running' || row.state === 'orphaned') && row.healthy === true) return 'healthy';
  return 'unhealthy';
}

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
    private readonly latencyWindowMs = 10_000,
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

export function moveRow(migration: MigrationRecord, interrupted: ReadonlySet<number>): MoveRow {
  const progress = migration.state !== 'running' ? migration.state : interrupted.has(migration.id) ? 'interrupted' : 'running';
  return {
    id: migration.id,
    customerId: migration.customerId,
    from: migration.sourceCell,
    to: migration.targetCell,
    progress,
    step: migration.step,
    fraction: migration.state === 'done' ? 1 : (MIGRATION_STEPS.indexOf(migration.step) + 1) / MIGRATION_STEPS.length,
    batch: migration.batch,
    startedAt: migration.startedAt,
    updatedAt: migration.updatedAt,
    error: migration.error,
    fix: progress === 'interrupted' ? [`cellctl migrate resume ${migration.id}`, `cellctl migrate abort ${migration.id}`] : [],
  };
}

/**
 * A bulk run's progress: moves done and running under one batch id; what is left is known for a
 * drain (the customers still in its draining source cells), else only the running ones.
 */
export function batchRows(migrations: readonly MigrationRecord[], report: StatusReport): BatchRow[] {
  const byBatch = new Map<string, MigrationRecord[]>();
  for (const migration of migrations)
    if (migration.batch && !migration.batch.startsWith('reverse-of-')) byBatch.set(migration.batch, [...(byBatch.get(migration.batch) ?? []), migration]);
  const rows: BatchRow[] = [];
  for (const [batch, moves] of byBatch) {
    const running = moves.filter((m) => m.state === 'running').length;
    if (running === 0) continue;
    const done = moves.filter((m) => m.state === 'done').length;
    const failed = moves.filter((m) => m.state === 'failed' || m.state === 'aborted').length;
    const sources = [...new Set(moves.map((m) => m.sourceCell))].sort();
    const sourceCells = report.cells.filter((cell) => sources.includes(cell.id));
    const draining = sourceCells.length === sources.length && sourceCells.every((cell) => cell.status === 'draining');
    const remaining = draining
      ? Math.max(
          running,
          sourceCells.reduce((sum, cell) => sum + cell.customers, 0),
        )
      : running;
    const first = Math.min(...moves.map((m) => Date.parse(m.startedAt)));
    const last = Math.max(...moves.map((m) => Date.parse(m.updatedAt)));
    const perSecond = done > 0 && last > first ? (done * 1000) / (last - first) : null;
    rows.push({
      batch,
      sources,
      done,
      running,
      failed,
      remaining,
      fraction: done / (done + remaining),
      etaSeconds: perSecond ? Math.ceil(remaining / perSecond) : null,
    });
  }
  return rows;
}

/** Every running move and the latest others, newest first. */
export function shownMoves(migrations: readonly MigrationRecord[], recent = 15): MigrationRecord[] {
  const newestFirst = [...migrations].sort((a, b) => b.id - a.id);
  const ended = newestFirst.filter((m) => m.state !== 'running').slice(0, recent);
  return newestFirst.filter((m) => m.state === 'running' || ended.includes(m));
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
}

function tile(id: string, kind: Tile['kind'], row: ProcessRow, inputs: ViewInputs): Omit<Tile, 'template' | 'status' | 'customers' | 'capacity' | 'figures'> {
  const figures = inputs.figures.get(id) ?? { rps: null, errorRate: null, p99Ms: null };
  return {
    id,
    kind,
    state: row.state,
    health: healthOf(row),
    ...figures,
    restarts: row.restarts,
    pid: row.pid,
    port: row.port,
    uptimeSeconds: row.uptimeSeconds,
    lastError: row.lastError,
    chart: inputs.tracker.chart(id),
  };
}

export function buildView(inputs: ViewInputs): DashboardView {
  const { report } = inputs;
  const verdict = judgeHealth(report);
  const interrupted = new Set(report.migrationsNeedingAttention.map((m) => m.id));
  const router = report.router;
  return {
    at: new Date(inputs.now).toISOString(),
    home: report.home,
    supervisor: report.supervisor.state,
    healthy: verdict.healthy,
    problems: verdict.problems,
    routers: [
      {
        ...tile(ROUTER_TILE, 'router', router, inputs),
        template: null,
        status: null,
        customers: router.customersMapped,
        capacity: report.cells.reduce((sum, cell) => sum + cell.capacity, 0),
        figures: router.mappingVersion === null ? {} : { mapping_version: router.mappingVersion },
      },
    ],
    cells: report.cells.map((cell) => ({
      ...tile(cell.id, 'cell', cell, inputs),
      template: cell.template,
      status: cell.status,
      customers: cell.customers,
      capacity: cell.capacity,
      figures: numbersOnly(inputs.cellMetrics.get(cell.id)),
    })),
    moves: shownMoves(inputs.migrations).map((migration) => moveRow(migration, interrupted)),
    batches: batchRows(inputs.migrations, report),
    events: inputs.events.map((event): EventRow => ({
      id: event.id,
      at: event.at,
      source: event.source,
      kind: event.kind,
      subject: event.subject,
      message: event.message,
    })),
  };
}
