// The dashboard's pure parts: time series and rates, p99 from the router's histogram, the access
// check, and the view-model built from status inputs and the migration journal.
import { describe, expect, it } from 'vitest';
import type { MigrationRecord } from '../../src/control/records.js';
import { accessCookie, tokenShown } from '../../src/dashboard/access.js';
import { bucketDelta, parseLatencyBuckets, quantile, totalBuckets } from '../../src/dashboard/latency.js';
import { appendPoint, errorRatio, ratePerSecond, SeriesSet } from '../../src/dashboard/series.js';
import { parseTraffic, trafficRows } from '../../src/dashboard/traffic.js';
import { batchRows, buildView, healthOf, moveRow, ROUTER_TILE, shownMoves, Tracker } from '../../src/dashboard/view.js';
import { buildStatus, type StatusInputs, type StatusReport } from '../../src/status/model.js';
import { cellRecord } from '../helpers.js';

describe('time series', () => {
  it('keeps only the points inside the window, in time order', () => {
    let points = appendPoint([], { t: 1_000, v: 1 }, 2_000);
    points = appendPoint(points, { t: 2_000, v: 2 }, 2_000);
    points = appendPoint(points, { t: 3_500, v: 3 }, 2_000);
    expect(points).toEqual([
      { t: 2_000, v: 2 },
      { t: 3_500, v: 3 },
    ]);
  });

  it('a named set keeps each series to its window', () => {
    const set = new SeriesSet(1_000);
    for (let t = 0; t <= 5_000; t += 500) set.push('a', { t, v: t });
    expect(set.get('a').map((p) => p.t)).toEqual([4_000, 4_500, 5_000]);
    expect(set.get('missing')).toEqual([]);
  });

  it('rates come from counter differences; a reset or a first reading gives none', () => {
    expect(ratePerSecond({ t: 0, count: 10 }, { t: 2_000, count: 30 })).toBe(10);
    expect(ratePerSecond(undefined, { t: 2_000, count: 30 })).toBeNull();
    expect(ratePerSecond({ t: 0, count: 50 }, { t: 1_000, count: 3 })).toBeNull();
    expect(ratePerSecond({ t: 1_000, count: 1 }, { t: 1_000, count: 3 })).toBeNull();
  });

  it('the error ratio is per request made meanwhile', () => {
    expect(errorRatio({ requests: 10, errors: 1 }, { requests: 20, errors: 3 })).toBe(0.2);
    expect(errorRatio({ requests: 10, errors: 1 }, { requests: 10, errors: 1 })).toBeNull();
    expect(errorRatio(undefined, { requests: 10, errors: 1 })).toBeNull();
  });
});

const EXPOSITION = `# HELP cellctl_router_request_duration_seconds Time
# TYPE cellctl_router_request_duration_seconds histogram
cellctl_router_request_duration_seconds_bucket{le="0.001",cell="a"} 50
cellctl_router_request_duration_seconds_bucket{le="0.01",cell="a"} 90
cellctl_router_request_duration_seconds_bucket{le="0.1",cell="a"} 100
cellctl_router_request_duration_seconds_bucket{le="+Inf",cell="a"} 100
cellctl_router_request_duration_seconds_sum{cell="a"} 0.5
cellctl_router_request_duration_seconds_count{cell="a"} 100
cellctl_router_request_duration_seconds_bucket{le="0.001",cell="b"} 0
cellctl_router_request_duration_seconds_bucket{le="0.01",cell="b"} 0
cellctl_router_request_duration_seconds_bucket{le="0.1",cell="b"} 10
cellctl_router_request_duration_seconds_bucket{le="+Inf",cell="b"} 10
`;

describe('latency from the router histogram', () => {
  it('parses the buckets per cell, ascending', () => {
    const buckets = parseLatencyBuckets(EXPOSITION);
    expect([...buckets.keys()]).toEqual(['a', 'b']);
    expect(buckets.get('a')).toEqual([
      { le: 0.001, count: 50 },
      { le: 0.01, count: 90 },
      { le: 0.1, count: 100 },
      { le: Infinity, count: 100 },
    ]);
    expect(totalBuckets(buckets).at(-1)).toEqual({ le: Infinity, count: 110 });
  });

  it('estimates quantiles within the bucket, like histogram_quantile', () => {
    const a = parseLatencyBuckets(EXPOSITION).get('a')!;
    expect(quantile(a, 0.5)).toBeCloseTo(0.001);
    expect(quantile(a, 0.99)).toBeCloseTo(0.01 + 0.09 * 0.9);
    expect(
      quantile(
        [
          { le: 0.1, count: 0 },
          { le: Infinity, count: 5 },
        ],
        0.99,
      ),
    ).toBe(0.1);
    expect(quantile([{ le: Infinity, count: 0 }], 0.99)).toBeNull();
  });

  it('takes the quantile over the difference from an older reading; a reset gives none', () => {
    const before = [
      { le: 0.001, count: 50 },
      { le: Infinity, count: 50 },
    ];
    const now = [
      { le: 0.001, count: 50 },
      { le: Infinity, count: 60 },
    ];
    expect(bucketDelta(now, before)).toEqual([
      { le: 0.001, count: 0 },
      { le: Infinity, count: 10 },
    ]);
    expect(quantile(bucketDelta(before, now), 0.99)).toBeNull();
  });
});

describe('access', () => {
  const request = (url: string, authorization?: string, cookie?: string) => ({ url: new URL(url, 'http://127.0.0.1'), authorization, cookie, port: 9 });
  it('lets in the token by query, bearer header or the cookie the first visit sets, and nothing else', () => {
    expect(tokenShown(request('/?token=secret'), 'secret')).toBe('query');
    expect(tokenShown(request('/', 'Bearer secret'), 'secret')).toBe('header');
    expect(tokenShown(request('/app.js', undefined, `x=1; ${accessCookie(9, 'secret').split(';')[0]}`), 'secret')).toBe('cookie');
    expect(tokenShown(request('/'), 'secret')).toBeNull();
    expect(tokenShown(request('/?token=secreT'), 'secret')).toBeNull();
    expect(tokenShown(request('/', 'Bearer secre'), 'secret')).toBeNull();
    // Another dashboard's cookie (another port on the same host) is not this one's.
    expect(tokenShown({ ...request('/', undefined, 'cellctl_dashboard_10=secret'), port: 9 }, 'secret')).toBeNull();
  });
});

const proc = (name: string, state: string, extra: Record<string, unknown> = {}) => ({
  name,
  kind: name === 'router' ? 'router' : 'cell',
  state,
  pid: 10,
  port: 9000,
  startedAt: new Date(0).toISOString(),
  restarts: 0,
  healthy: true,
  lastExit: null,
  lastError: null,
  nextRestartAt: null,
  ...extra,
});

function report(
  options: { requests?: number; errors?: number; bState?: string; bHealthy?: boolean; bDetail?: string; status?: 'active' | 'draining' } = {},
): StatusReport {
  const inputs: StatusInputs = {
    home: '/w',
    now: 65_000,
    cells: [cellRecord('a', { capacity: 10, status: options.status ?? 'active' }), cellRecord('b')],
    customerCounts: new Map([['a', 4]]),
    supervisor: {
      pid: 1,
      startedAt: new Date(0).toISOString(),
      processes: [proc('router', 'running'), proc('a', 'running'), proc('b', options.bState ?? 'running')] as never,
    },
    orphanPids: new Map(),
    health: new Map([
      ['router', true],
      ['a', true],
      ['b', options.bHealthy ?? true],
    ]),
    healthDetail: new Map(options.bDetail ? [['b', options.bDetail]] : []),
    routerStats: {
      enforcing: { auth: 'none', jwtRequireExp: false, placement: 'hash', placementTemplate: null, host: '127.0.0.1', needsRestart: [] },
      pid: 10,
      uptimeSeconds: 5,
      memoryRssBytes: 1,
      clientConnections: 0,
      bufferedBytes: 0,
      unreadConnections: 0,
      pipelineLimitedConnections: 0,
      pipelinePauses: 0,
      fences: [],
      fenceHolds: { count: 0, p50Ms: null, p99Ms: null, maxMs: null },
      mappingVersion: 3,
      customersMapped: 4,
      cells: {
        a: { requests: options.requests ?? 0, errors: options.errors ?? 0, healthy: true, customers: 0 },
        b: { requests: 0, errors: 0, healthy: true, customers: 0 },
      },
    } as never,
    routerPort: 8000,
    routerAdminPort: 8001,
    auth: 'none',
    runningMigrations: [],
  };
  return buildStatus(inputs);
}

const migration = (id: number, extra: Partial<MigrationRecord> = {}): MigrationRecord => ({
  id,
  customerId: `c${id}`,
  sourceCell: 'a',
  targetCell: 'b',
  step: 'copied',
  state: 'running',
  keepSourceUntil: null,
  batch: null,
  detail: {},
  error: null,
  startedAt: new Date(0).toISOString(),
  updatedAt: new Date(1_000).toISOString(),
  owner: null,
  fencing: 1,
  ...extra,
});

describe('the view-model', () => {
  it('names health in a word for every process state', () => {
    expect(healthOf({ state: 'running', healthy: true })).toBe('healthy');
    expect(healthOf({ state: 'running', healthy: false })).toBe('unhealthy');
    expect(healthOf({ state: 'running', healthy: null })).toBe('unhealthy');
    expect(healthOf({ state: 'backoff', healthy: null })).toBe('unhealthy');
    expect(healthOf({ state: 'crashed', healthy: null })).toBe('unhealthy');
    expect(healthOf({ state: 'starting', healthy: null })).toBe('starting');
    expect(healthOf({ state: 'stopped', healthy: null })).toBe('stopped');
    expect(healthOf({ state: 'orphaned', healthy: true })).toBe('healthy');
    // A registered cell that answers at its URL is healthy, as status and health say (it showed red).
    expect(healthOf({ state: 'registered', healthy: true })).toBe('healthy');
    expect(healthOf({ state: 'registered', healthy: false })).toBe('unhealthy');
  });

  it('turns successive counter readings into req/s, error rate and p99, per cell and for the router', () => {
    const tracker = new Tracker(60_000, 10_000);
    const first = tracker.observe(1_000, report({ requests: 100, errors: 0 }), parseLatencyBuckets(''));
    expect(first.get('a')).toEqual({ rps: null, errorRate: null, p99Ms: null });
    const later = tracker.observe(3_000, report({ requests: 140, errors: 4 }), parseLatencyBuckets(EXPOSITION));
    expect(later.get('a')!.rps).toBe(20);
    expect(later.get('a')!.errorRate).toBeCloseTo(0.1);
    expect(later.get('a')!.p99Ms).toBeCloseTo(91);
    expect(later.get(ROUTER_TILE)!.rps).toBe(20);
    expect(tracker.chart('a')).toEqual({ t: [1, 3], rps: [null, 20], p99Ms: [null, expect.closeTo(91)] });
  });

  it('builds a tile per cell and the router, with state, health, load and figures', () => {
    const tracker = new Tracker();
    const status = report({ bState: 'backoff' });
    const view = buildView({
      now: 5_000,
      report: status,
      figures: tracker.observe(5_000, status, null),
      tracker,
      cellMetrics: new Map([['a', { cell_id: 'a', customer_count: 4, timestamp: 1 }]]),
      migrations: [],
      events: [{ id: 1, at: 'x', source: 'supervisor', kind: 'process.crashed', subject: 'b', message: 'exit 137' }],
    });
    expect(view.cells.map((tile) => [tile.id, tile.state, tile.health, tile.customers, tile.capacity])).toEqual([
      ['a', 'running', 'healthy', 4, 10],
      ['b', 'backoff', 'unhealthy', 0, 10],
    ]);
    expect(view.cells[0]!.figures).toEqual({ customer_count: 4 });
    expect(view.routers[0]).toMatchObject({ id: 'router', kind: 'router', health: 'healthy', customers: 4, capacity: 20 });
    expect(view.healthy).toBe(false);
    expect(view.events).toHaveLength(1);
  });

  it("says on the tile and in the problems that a cell's database refuses writes", () => {
    const tracker = new Tracker();
    const refusing = report({ bHealthy: false, bDetail: 'database refuses writes (SQLITE_BUSY: database is locked)' });
    const view = buildView({
      now: 5_000,
      report: refusing,
      figures: tracker.observe(5_000, refusing, null),
      tracker,
      cellMetrics: new Map(),
      migrations: [],
      events: [],
    });
    expect(view.cells[1]).toMatchObject({ id: 'b', health: 'unhealthy', lastError: expect.stringMatching(/^database refuses writes/) });
    expect(view.problems).toEqual([expect.stringMatching(/cell b is running but fails its health check: database refuses writes/)]);
  });

  it('marks an interrupted move with the commands that finish it; a done one is complete', () => {
    expect(moveRow(migration(7), new Set([7]))).toMatchObject({ progress: 'interrupted', fix: ['cellctl migrate resume 7', 'cellctl migrate abort 7'] });
    expect(moveRow(migration(7, { step: 'verified' }), new Set())).toMatchObject({ progress: 'running', fraction: 4 / 7, online: null, fix: [] });
    // An online move counts its two steps before the fence, and says where its copy stands.
    const online = migration(9, {
      step: 'capturing',
      detail: { online: true, totalRows: 9000, progress: { phase: 'copying', rows: 4000, totalRows: 9000, lag: 0 } },
    });
    expect(moveRow(online, new Set())).toMatchObject({ fraction: 2 / 9, online: { phase: 'copying', rows: 4000, totalRows: 9000, lag: 0 } });
    expect(moveRow(migration(8, { state: 'done', step: 'purged' }), new Set())).toMatchObject({ progress: 'done', fraction: 1 });
  });

  it('shows every running move and the latest ended ones, newest first', () => {
    const journal = [migration(1), ...Array.from({ length: 20 }, (_, i) => migration(i + 2, { state: 'done' }))];
    const shown = shownMoves(journal, 3);
    expect(shown.map((m) => m.id)).toEqual([21, 20, 19, 1]);
  });

  it("gives a drain's progress and ETA from its batch and the customers left in the draining cell", () => {
    const started = Date.parse('2026-01-01T00:00:00Z');
    const at = (ms: number) => new Date(started + ms).toISOString();
    const journal = [
      migration(1, { batch: 'x', state: 'done', startedAt: at(0), updatedAt: at(1_000) }),
      migration(2, { batch: 'x', state: 'done', startedAt: at(1_000), updatedAt: at(2_000) }),
      migration(3, { batch: 'x', state: 'running', startedAt: at(2_000), updatedAt: at(2_000) }),
      migration(4, { batch: 'y', state: 'done' }),
    ];
    const rows = batchRows(journal, report({ status: 'draining' }));
    expect(rows).toEqual([
      { batch: 'x', progress: 'running', sources: ['a'], done: 2, running: 1, failed: 0, remaining: 4, fraction: 2 / 6, etaSeconds: 4 },
      { batch: 'y', progress: 'ended', sources: ['a'], done: 1, running: 0, failed: 0, remaining: 0, fraction: 1, etaSeconds: null },
    ]);
    expect(batchRows(journal, report())[0]).toMatchObject({ remaining: 1, etaSeconds: 1 });
  });

  it("groups a bulk run: its moves are its batch's row, not cards of their own, but for one that needs a hand", () => {
    const drain = Array.from({ length: 30 }, (_, i) => migration(i + 1, { batch: 'd', state: 'done', step: 'purged' }));
    const journal = [...drain, migration(31, { batch: 'd', state: 'failed', error: 'boom' }), migration(32), migration(33, { state: 'done' })];
    expect(shownMoves(journal).map((m) => m.id)).toEqual([33, 32, 31]);
    const rows = batchRows(journal, report());
    expect(rows).toEqual([expect.objectContaining({ batch: 'd', progress: 'ended', done: 30, failed: 1 })]);
  });

  it('keeps a crash or restart on its tile and in the incidents for an hour; says which window the p99 is of', () => {
    const tracker = new Tracker(60_000, 10_000);
    const status = report();
    const now = Date.parse('2026-12-07T12:00:00Z');
    const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
    const events = [
      { id: 4, at: at(1), source: 'supervisor', kind: 'process.crashed', subject: 'b', message: 'exit 137; restarting in 100 ms' },
      { id: 3, at: at(2), source: 'supervisor', kind: 'process.started', subject: 'b', message: 'pid 7' },
      { id: 2, at: at(30), source: 'supervisor', kind: 'process.hung', subject: 'b', message: 'killing it' },
      { id: 1, at: at(90), source: 'supervisor', kind: 'process.crashed', subject: 'a', message: 'exit 1' },
    ];
    const view = buildView({ now, report: status, figures: tracker.observe(now, status, null), tracker, cellMetrics: new Map(), migrations: [], events });
    expect(view.cells.map((tile) => [tile.id, tile.incidentsLastHour, tile.lastIncidentAt])).toEqual([
      ['a', 0, null],
      ['b', 2, at(1)],
    ]);
    expect(view.incidents.map((event) => event.id)).toEqual([4, 2]);
    expect(view.cells[0]!.p99WindowSeconds).toBe(10);
  });

  it('shows every router the control plane lists, live or stale, with its host', () => {
    const tracker = new Tracker();
    const status = report();
    status.router.id = 'here:8000';
    status.routers = [
      {
        id: 'here:8000',
        adminUrl: 'http://127.0.0.1:8001',
        publicUrl: 'http://127.0.0.1:8000',
        pid: 10,
        host: 'here',
        heartbeatAgeMs: 100,
        live: true,
        mapping: null,
      },
      {
        id: 'b:8020',
        adminUrl: 'http://10.0.0.2:8021',
        publicUrl: 'http://10.0.0.2:8020',
        pid: 42,
        host: 'host-b',
        heartbeatAgeMs: 200,
        live: true,
        mapping: null,
      },
      {
        id: 'c:8020',
        adminUrl: 'http://10.0.0.3:8021',
        publicUrl: 'http://10.0.0.3:8020',
        pid: 43,
        host: 'host-c',
        heartbeatAgeMs: 9_000,
        live: false,
        mapping: null,
      },
    ];
    const view = buildView({
      now: 5_000,
      report: status,
      figures: tracker.observe(5_000, status, null),
      tracker,
      cellMetrics: new Map(),
      migrations: [],
      events: [],
    });
    expect(view.routers.map((tile) => [tile.id, tile.host, tile.state, tile.health])).toEqual([
      ['router', null, 'running', 'healthy'],
      ['b:8020', 'host-b', 'live', 'healthy'],
      ['c:8020', 'host-c', 'stale', 'unhealthy'],
    ]);
    expect(view.routers[2]!.lastError).toBe('no heartbeat for 9 s');
  });

  it("counts each router's refusals by reason and the cells' 4xx and 5xx, and sums them", () => {
    const one = parseTraffic(
      'r1',
      [
        '# TYPE cellctl_router_rejected_total counter',
        'cellctl_router_rejected_total{reason="rate_limited"} 7',
        'cellctl_router_rejected_total{reason="fenced"} 2',
        'cellctl_router_requests_total{cell="a",code="200"} 90',
        'cellctl_router_requests_total{cell="a",code="404"} 3',
        'cellctl_router_requests_total{cell="a",code="503"} 1',
        'cellctl_router_requests_total{cell="b",code="201"} 4',
      ].join('\n'),
    );
    expect(one).toEqual({ router: 'r1', rejected: { rate_limited: 7, fenced: 2 }, cells: { a: { '4xx': 3, '5xx': 1 } } });
    const two = parseTraffic('r2', 'cellctl_router_rejected_total{reason="fenced"} 1\ncellctl_router_requests_total{cell="a",code="502"} 2');
    expect(trafficRows([one])).toEqual([one]);
    expect(trafficRows([one, two]).at(-1)).toEqual({
      router: 'all routers',
      rejected: { rate_limited: 7, fenced: 3 },
      cells: { a: { '4xx': 3, '5xx': 3 } },
    });
  });
});
