// Reads the live system once a tick (the status collection `cellctl status` uses, the router's
// latency histogram, each running cell's /metrics, the journal and the events) and turns it into
// a DashboardView for every open page.
import { fetchCellMetrics } from '../cell/client.js';
import { RouterAdmin } from '../router/client.js';
import { collectStatus } from '../status/collect.js';
import type { StatusReport } from '../status/model.js';
import type { Workspace } from '../workspace/workspace.js';
import { parseLatencyBuckets } from './latency.js';
import type { DashboardView, TrafficRow } from './protocol.js';
import { parseTraffic } from './traffic.js';
import { readAdminToken } from '../workspace/secrets.js';
import { buildView, Tracker } from './view.js';

/** Enough of the journal to count a bulk run's progress; enough events for an hour of incidents and the page's filters. */
const JOURNAL_ROWS = 500;
const EVENT_ROWS = 500;

/** The workspace's own router's exposition (its latency histogram and its counters), when it runs. */
async function ownRouterMetrics(ws: Workspace, report: StatusReport): Promise<string | null> {
  if (report.router.state !== 'running' && report.router.state !== 'orphaned') return null;
  return RouterAdmin.forWorkspace(ws.home, ws.settings, 1_000)
    .metricsText()
    .catch(() => null);
}

/** Every other live router's rejections and error answers, read through its admin URL with the admin token. */
async function otherRouters(report: StatusReport, token: string): Promise<TrafficRow[]> {
  const others = report.routers.filter((router) => router.live && router.id !== report.router.id);
  const texts = await Promise.all(others.map((router) => new RouterAdmin(router.adminUrl, token, 1_000).metricsText().catch(() => null)));
  return others.flatMap((router, index) => (texts[index] === null ? [] : [parseTraffic(router.id, texts[index]!)]));
}

async function cellMetrics(ws: Workspace, report: StatusReport): Promise<Map<string, Record<string, unknown> | null>> {
  const running = report.cells.filter((cell) => cell.state === 'running' && cell.port !== null);
  const answers = await Promise.all(running.map((cell) => fetchCellMetrics(cell.port!, 1_000)));
  return new Map(running.map((cell, index) => [cell.id, answers[index] ?? null]));
}

export class Sampler {
  private readonly tracker = new Tracker();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Read once: every tick calls the other routers' admin APIs with it. */
  private adminToken: string | null = null;
  latest: DashboardView | null = null;

  constructor(
    private readonly ws: Workspace,
    private readonly intervalMs: number,
    private readonly onView: (view: DashboardView) => void,
  ) {}

  async sample(): Promise<DashboardView> {
    const report = await collectStatus(this.ws);
    const [own, metrics, others] = await Promise.all([
      ownRouterMetrics(this.ws, report),
      cellMetrics(this.ws, report),
      otherRouters(report, (this.adminToken ??= readAdminToken(this.ws.home))),
    ]);
    const buckets = own === null ? null : parseLatencyBuckets(own);
    const traffic = [...(own === null ? [] : [parseTraffic(report.router.id ?? 'router', own)]), ...others];
    const now = Date.now();
    const view = buildView({
      now,
      report,
      figures: this.tracker.observe(now, report, buckets),
      tracker: this.tracker,
      cellMetrics: metrics,
      migrations: await this.ws.plane.listMigrations({ limit: JOURNAL_ROWS }),
      events: (await this.ws.plane.listEvents({ limit: EVENT_ROWS })).reverse(),
      traffic,
    });
    this.latest = view;
    return view;
  }

  /** Samples now and then every interval (measured from each start, never overlapping) until stop(). */
  start(): void {
    const tick = async () => {
      const started = Date.now();
      try {
        this.onView(await this.sample());
      } catch {
        // A reading that failed (control.db busy, a process mid-restart) is skipped; the next one comes.
      }
      if (!this.stopped) this.timer = setTimeout(tick, Math.max(0, this.intervalMs - (Date.now() - started)));
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
