import { describe, expect, it } from 'vitest';
import { renderStatus } from '../../src/cli/views/status.js';
import type { RouterStats } from '../../src/router/protocol.js';
import { buildStatus, judgeHealth, judgeUnreadableControl, runsNothingHere, type StatusInputs } from '../../src/status/model.js';

const cell = (id: string) => ({
  id,
  template: 'basic',
  templateDir: '/t',
  schemaVersion: 1,
  port: 9000,
  capacity: 10,
  healthPath: '/health',
  status: 'active' as const,
  createdAt: '',
  firstHealthyAt: '',
  url: 'http://127.0.0.1:9000',
  dataUrl: 'http://127.0.0.1:9100',
  dataPort: 9100,
  managed: true,
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

const routerStats: RouterStats = {
  enforcing: { auth: 'none', jwtRequireExp: false, placement: 'hash', placementTemplate: null, host: '127.0.0.1', needsRestart: [] },
  pid: 10,
  uptimeSeconds: 5,
  mappingVersion: 5,
  customersMapped: 3,
  memoryRssBytes: 1,
  clientConnections: 0,
  bufferedBytes: 0,
  unreadConnections: 0,
  pipelineLimitedConnections: 0,
  pipelinePauses: 0,
  cells: { a: { requests: 10, errors: 1, healthy: true, customers: 3 } },
  fences: [],
  fenceHolds: { count: 0, p50Ms: null, p99Ms: null, maxMs: null },
};

const inputs = (processes: unknown[], health: [string, boolean][] = []): StatusInputs => ({
  home: '/w',
  now: 65_000,
  cells: [cell('a'), cell('b')],
  customerCounts: new Map([['a', 3]]),
  supervisor: { pid: 1, startedAt: new Date(0).toISOString(), processes: processes as never },
  orphanPids: new Map(),
  health: new Map(health),
  routerStats,
  routerPort: 8000,
  routerAdminPort: 8001,
  auth: 'none',
  runningMigrations: [],
});

describe('status model', () => {
  it('builds one row per cell with process, health, load and traffic', () => {
    const report = buildStatus(
      inputs(
        [proc('router', 'running'), proc('a', 'running', { restarts: 2 })],
        [
          ['a', true],
          ['router', true],
        ],
      ),
    );
    expect(report.cells[0]).toMatchObject({
      id: 'a',
      state: 'running',
      pid: 10,
      uptimeSeconds: 65,
      restarts: 2,
      healthy: true,
      customers: 3,
      capacity: 10,
      requests: 10,
      errors: 1,
    });
    expect(report.cells[1]).toMatchObject({ id: 'b', state: 'stopped', pid: null, healthy: null, customers: 0 });
    expect(report.router).toMatchObject({ state: 'running', mappingVersion: 5, adminPort: 8001 });
  });

  it('is healthy only when router and every started cell are healthy', () => {
    expect(
      judgeHealth(
        buildStatus(
          inputs(
            [proc('router', 'running'), proc('a', 'running')],
            [
              ['a', true],
              ['router', true],
            ],
          ),
        ),
      ).healthy,
    ).toBe(true);
    const sick = judgeHealth(
      buildStatus(
        inputs(
          [proc('router', 'running'), proc('a', 'running')],
          [
            ['a', false],
            ['router', true],
          ],
        ),
      ),
    );
    expect(sick).toMatchObject({ healthy: false, customersAffected: 3, details: [{ problem: 'cell a is running but fails its health check', customers: 3 }] });
    const looping = judgeHealth(buildStatus(inputs([proc('router', 'running'), proc('a', 'crashed', { lastExit: 'exited with code 1' })], [['router', true]])));
    expect(looping.details.map((detail) => detail.problem)).toEqual(['cell a is crashed (exited with code 1)']);
  });

  it('is unhealthy when nothing runs', () => {
    const verdict = judgeHealth(buildStatus({ ...inputs([]), supervisor: null, routerStats: null }));
    expect(verdict.healthy).toBe(false);
    expect(verdict.problems[0]).toMatch(/supervisor is not running/);
  });

  it('counts a stopped cell that holds customers as refusing them, and names the command', () => {
    const verdict = judgeHealth(buildStatus(inputs([proc('router', 'running')], [['router', true]])));
    expect(verdict).toMatchObject({ healthy: false, customersAffected: 3, details: [{ customers: 3, fix: 'cellctl start a' }] });
    // b is stopped but holds nobody: not a problem.
    expect(verdict.details).toHaveLength(1);
  });

  it('fails on an interrupted move, not on one in progress', () => {
    const migration = { id: 7, customerId: 'x', sourceCell: 'a', targetCell: 'b', step: 'copied', updatedAt: '' } as never;
    const up = [proc('router', 'running'), proc('a', 'running')];
    const healthy: [string, boolean][] = [
      ['a', true],
      ['router', true],
    ];
    expect(judgeHealth(buildStatus({ ...inputs(up, healthy), runningMigrations: [{ migration, runBy: 'pid 5' }] })).healthy).toBe(true);
    const stuck = judgeHealth(buildStatus({ ...inputs(up, healthy), runningMigrations: [{ migration, runBy: null }] }));
    expect(stuck).toMatchObject({ healthy: false, customersAffected: 1 });
    expect(stuck.details[0]!.fix).toMatch(/migrate resume 7/);
  });

  it('does not fail on a move interrupted after its fence was lifted (the target serves the customer), but notes it', () => {
    const up = [proc('router', 'running'), proc('a', 'running')];
    const healthy: [string, boolean][] = [
      ['a', true],
      ['router', true],
    ];
    for (const step of ['released', 'purged']) {
      const migration = { id: 8, customerId: 'x', sourceCell: 'a', targetCell: 'b', step, updatedAt: '' } as never;
      const verdict = judgeHealth(buildStatus({ ...inputs(up, healthy), runningMigrations: [{ migration, runBy: null }] }));
      expect(verdict).toMatchObject({ healthy: true, customersAffected: 0, details: [] });
      expect(verdict.notes).toEqual([expect.stringMatching(/b serves the customer.*migrate resume 8/)]);
    }
    const switched = { id: 9, customerId: 'x', sourceCell: 'a', targetCell: 'b', step: 'switched', updatedAt: '' } as never;
    expect(judgeHealth(buildStatus({ ...inputs(up, healthy), runningMigrations: [{ migration: switched, runBy: null }] })).healthy).toBe(false);
  });

  it('names a cell whose database refuses writes, with a fix that is not a restart', () => {
    const up = [proc('router', 'running'), proc('a', 'running')];
    const report = buildStatus({
      ...inputs(up, [
        ['a', false],
        ['router', true],
      ]),
      healthDetail: new Map([['a', 'database refuses writes (SQLITE_BUSY: database is locked)']]),
    });
    expect(report.cells.find((cell) => cell.id === 'a')).toMatchObject({ healthy: false, lastError: expect.stringMatching(/^database refuses writes/) });
    const verdict = judgeHealth(report);
    expect(verdict.healthy).toBe(false);
    expect(verdict.details[0]).toMatchObject({
      problem: expect.stringMatching(/cell a is running but fails its health check: database refuses writes/),
      customers: 3,
      fix: expect.stringMatching(/write transaction open on a's database.*a restart does not free/),
    });
  });

  it('fails when the router cannot read control.db, counting every customer', () => {
    const up = [proc('router', 'running'), proc('a', 'running')];
    const verdict = judgeHealth(
      buildStatus({
        ...inputs(up, [
          ['a', true],
          ['router', true],
        ]),
        routerControlPlane: { ok: false, error: 'SQLITE_CORRUPT' },
      }),
    );
    expect(verdict).toMatchObject({ healthy: false, customersAffected: 3 });
    expect(verdict.problems[0]).toMatch(/control\.db/);
  });

  it('fails when a router refuses customers for want of a confirmed mapping, and status says since when', () => {
    const up = [proc('router', 'running'), proc('a', 'running')];
    const unconfirmed = { confirmed: false as const, confirmedAt: '2030-01-01T00:00:05.000Z', unconfirmedSince: '2030-01-01T00:00:08.000Z' };
    const report = buildStatus({
      ...inputs(up, [
        ['a', true],
        ['router', true],
      ]),
      routerMapping: unconfirmed,
    });
    const verdict = judgeHealth(report);
    expect(verdict).toMatchObject({ healthy: false, customersAffected: 3 });
    expect(verdict.problems[0]).toMatch(/refuses every customer's requests \(503 mapping_unconfirmed\): mapping unconfirmed since 2030-01-01T00:00:08.000Z/);
    expect(renderStatus(report)).toMatch(/router: mapping unconfirmed since 2030-01-01T00:00:08.000Z/);
    const other = {
      id: 'b:8020',
      adminUrl: 'http://10.0.0.2:8021',
      publicUrl: 'http://10.0.0.2:8020',
      pid: 7,
      host: 'b',
      startedAt: '',
      heartbeatAt: '',
      heartbeatAgeMs: 9_000,
      live: false,
    };
    const second = buildStatus({
      ...inputs(up, [
        ['a', true],
        ['router', true],
      ]),
      routers: [other],
      routerMappings: new Map([['b:8020', unconfirmed]]),
    });
    expect(judgeHealth(second).problems).toEqual([expect.stringMatching(/router b:8020 \(http:\/\/10.0.0.2:8020\) refuses .*mapping unconfirmed since/)]);
    expect(renderStatus(second)).toMatch(/b:8020 *│ stale *│.*│ unconfirm/);
    expect(renderStatus(second)).toMatch(/router b:8020: mapping unconfirmed since 2030-01-01T00:00:08.000Z/);
  });

  it('the status table fits 80 columns; wide shows every column', () => {
    const report = buildStatus({
      ...inputs(
        [proc('router', 'running'), proc('a', 'running')],
        [
          ['a', true],
          ['router', true],
        ],
      ),
      cells: ['cell-1', 'cell-2', 'cell-3'].map((id) => ({ ...cell(id), template: 'ecommerce', capacity: 10_000 })),
      customerCounts: new Map([['cell-1', 9_999]]),
    });
    const narrow = renderStatus(report).split('\n');
    for (const line of narrow) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(narrow.join('\n')).not.toContain('uptime');
    expect(renderStatus(report, true)).toContain('uptime');
  });
});

describe('health when control.db cannot be read', () => {
  it('is unhealthy, and says whether the router can read it', () => {
    const both = judgeUnreadableControl('damaged', { ok: false, error: 'file is not a database' });
    expect(both.healthy).toBe(false);
    expect(both.problems).toHaveLength(2);
    expect(both.problems[1]).toMatch(/router cannot read the control plane either \(file is not a database\)/);
    expect(judgeUnreadableControl('damaged', { ok: true }).problems).toHaveLength(1);
    expect(judgeUnreadableControl('damaged', null).problems[1]).toMatch(/router did not answer/);
    const refusing = judgeUnreadableControl(
      'damaged',
      { ok: false, error: 'x' },
      { confirmed: false, confirmedAt: null, unconfirmedSince: '2030-01-01T00:00:08.000Z' },
    );
    expect(refusing.problems[1]).toMatch(/refuses every customer's requests .*mapping unconfirmed since 2030-01-01T00:00:08.000Z/);
    // What to bring back: the file here, or the PostgreSQL server (which has no control.db to restore).
    expect(both.problems[0]).toMatch(/restore control\.db from a backup/);
    const postgres = judgeUnreadableControl('connect ECONNREFUSED 10.0.0.2:5432', null, null, 'postgres');
    expect(postgres.problems[0]).toMatch(/bring PostgreSQL back, or correct the URL in secrets\/control-url/);
    expect(postgres.problems[0]).not.toMatch(/control\.db/);
  });
});

describe('status: the control plane and the registered routers', () => {
  const registered = (id: string, live: boolean) => ({
    id,
    adminUrl: `http://10.0.0.${id === 'r1' ? 1 : 2}:8001`,
    publicUrl: 'http://10.0.0.1:8000',
    pid: 42,
    host: `host-${id}`,
    startedAt: '',
    heartbeatAt: '',
    heartbeatAgeMs: live ? 400 : 9_000,
    live,
  });

  it('lists every registered router, live or stale, and where the control plane is', () => {
    const report = buildStatus({
      ...inputs([]),
      controlPlane: { kind: 'postgres', where: 'postgres://cellctl:***@db:5432/cellctl' },
      routers: [registered('r1', true), registered('r2', false)],
    });
    expect(report.controlPlane.kind).toBe('postgres');
    expect(report.routers.map((router) => [router.id, router.live, router.host])).toEqual([
      ['r1', true, 'host-r1'],
      ['r2', false, 'host-r2'],
    ]);
    const text = renderStatus(report);
    expect(text).toMatch(/control plane: postgres:\/\/cellctl:\*\*\*@db:5432\/cellctl \(PostgreSQL\)/);
    expect(text).toMatch(/r1.*live.*host-r1/);
    expect(renderStatus(report, true)).toMatch(/r1.*live.*42@host-r1.*http:\/\/10\.0\.0\.1:8000/);
    expect(text).toMatch(/r2.*stale/);
  });

  describe('from a folder that runs nothing here (an operator on another host)', () => {
    const elsewhere = (routers: ReturnType<typeof registered>[], managed = false) =>
      buildStatus({
        ...inputs(
          [],
          [
            ['a', true],
            ['b', true],
          ],
        ),
        supervisor: null,
        routerStats: null,
        cells: [cell('a'), cell('b')].map((row) => ({ ...row, managed })),
        routers,
      });

    it('is healthy while a router the control plane lists is live, whatever runs on this host', () => {
      const report = elsewhere([registered('r1', true), registered('r2', false)]);
      expect(runsNothingHere(report)).toBe(true);
      expect(judgeHealth(report)).toMatchObject({ healthy: true, details: [] });
      expect(renderStatus(report)).toMatch(/no supervised process runs from this folder here/);
    });

    it('a registered cell that does not answer and holds no customers is a note, not a failure; holding customers, it fails', () => {
      const silent = (customers: number) =>
        buildStatus({
          ...inputs(
            [],
            [
              ['a', true],
              ['b', false],
            ],
          ),
          supervisor: null,
          routerStats: null,
          customerCounts: new Map([['b', customers]]),
          cells: [cell('a'), cell('b')].map((row) => ({ ...row, managed: false })),
          routers: [registered('r1', true)],
        });
      const idle = judgeHealth(silent(0));
      expect(idle).toMatchObject({ healthy: true, details: [] });
      expect(idle.notes).toEqual([
        expect.stringMatching(/^cell b \(registered\) does not answer its health check at its URL; it holds no customers, so nobody is refused/),
      ]);
      const holding = judgeHealth(silent(2));
      expect(holding).toMatchObject({ healthy: false, customersAffected: 2 });
      expect(holding.notes).toEqual([]);
    });

    it('refuses every customer when no listed router is live', () => {
      const verdict = judgeHealth(elsewhere([registered('r1', false)]));
      expect(verdict).toMatchObject({ healthy: false, customersAffected: 3 });
      expect(verdict.problems[0]).toMatch(/no router is live/);
    });

    it('judges a folder with cells of its own, or with no router registered, by its own supervisor and router', () => {
      expect(runsNothingHere(elsewhere([registered('r1', true)], true))).toBe(false);
      expect(judgeHealth(elsewhere([registered('r1', true)], true)).problems[0]).toMatch(/supervisor is not running/);
      expect(runsNothingHere(elsewhere([]))).toBe(false);
      expect(judgeHealth(elsewhere([])).problems[0]).toMatch(/supervisor is not running/);
    });
  });
});
