// What `cellctl status` and `cellctl health` report, as pure functions of what was collected.
import type { CellRecord, MigrationRecord } from '../control/store.js';
import type { ProcessState, ProcessStatus } from '../supervisor/protocol.js';

export type ShownState = ProcessState | 'orphaned';

export interface ProcessRow {
  state: ShownState;
  pid: number | null;
  port: number | null;
  uptimeSeconds: number | null;
  restarts: number;
  healthy: boolean | null;
  lastError: string | null;
}

export interface CellRow extends ProcessRow {
  id: string;
  template: string;
  status: CellRecord['status'];
  customers: number;
  capacity: number;
  requests: number | null;
  errors: number | null;
}

export interface StatusReport {
  home: string;
  supervisor: { state: 'running' | 'stopped'; pid: number | null; uptimeSeconds: number | null };
  router: ProcessRow & { adminPort: number; mappingVersion: number | null; customersMapped: number | null; auth: string };
  cells: CellRow[];
  /** Every running migration: in progress (its owner runs it) or interrupted (resume or abort it). */
  migrations: MigrationRow[];
  /** The interrupted ones: nobody runs them, and their customers stay fenced until resumed or aborted. */
  migrationsNeedingAttention: MigrationRow[];
}

export interface MigrationRow {
  id: number;
  customerId: string;
  from: string;
  to: string;
  step: string;
  since: string;
  progress: 'in-progress' | 'interrupted';
  /** Who runs an in-progress one ("pid 1234"); null when interrupted. */
  runBy: string | null;
}

export interface StatusInputs {
  home: string;
  now: number;
  cells: CellRecord[];
  customerCounts: Map<string, number>;
  supervisor: { pid: number; startedAt: string; processes: ProcessStatus[] } | null;
  /** Pids found alive in pid files while no supervisor runs. */
  orphanPids: Map<string, number>;
  health: Map<string, boolean>;
  routerStats: { mappingVersion: number; customersMapped: number; cells: Record<string, { requests: number; errors: number }> } | null;
  routerPort: number;
  routerAdminPort: number;
  auth: string;
  /** Running migrations, each with its owner's name when that owner still runs it. */
  runningMigrations: { migration: MigrationRecord; runBy: string | null }[];
}

const uptime = (startedAt: string | null, now: number): number | null =>
  startedAt ? Math.max(0, Math.round((now - Date.parse(startedAt)) / 1000)) : null;

function processRow(name: string, inputs: StatusInputs, port: number): ProcessRow {
  const proc = inputs.supervisor?.processes.find((candidate) => candidate.name === name);
  const orphan = inputs.orphanPids.get(name);
  if (!proc) {
    return { state: orphan ? 'orphaned' : 'stopped', pid: orphan ?? null, port, uptimeSeconds: null, restarts: 0, healthy: orphan ? (inputs.health.get(name) ?? null) : null, lastError: null };
  }
  const live = proc.state === 'running' || proc.state === 'starting';
  return {
    state: proc.state,
    pid: proc.pid,
    port,
    uptimeSeconds: live ? uptime(proc.startedAt, inputs.now) : null,
    restarts: proc.restarts,
    healthy: live ? (inputs.health.get(name) ?? proc.healthy) : null,
    lastError: proc.lastError ?? (proc.state === 'running' ? null : proc.lastExit),
  };
}

export function buildStatus(inputs: StatusInputs): StatusReport {
  const migrations = inputs.runningMigrations.map(({ migration, runBy }): MigrationRow => ({
    id: migration.id,
    customerId: migration.customerId,
    from: migration.sourceCell,
    to: migration.targetCell,
    step: migration.step,
    since: migration.updatedAt,
    progress: runBy === null ? 'interrupted' : 'in-progress',
    runBy,
  }));
  const cells = inputs.cells.map((cell): CellRow => {
    const counters = inputs.routerStats?.cells[cell.id];
    return {
      id: cell.id,
      template: cell.template,
      status: cell.status,
      ...processRow(cell.id, inputs, cell.port),
      customers: inputs.customerCounts.get(cell.id) ?? 0,
      capacity: cell.capacity,
      requests: counters?.requests ?? null,
      errors: counters?.errors ?? null,
    };
  });
  return {
    home: inputs.home,
    supervisor: inputs.supervisor
      ? { state: 'running', pid: inputs.supervisor.pid, uptimeSeconds: uptime(inputs.supervisor.startedAt, inputs.now) }
      : { state: 'stopped', pid: null, uptimeSeconds: null },
    router: {
      ...processRow('router', inputs, inputs.routerPort),
      adminPort: inputs.routerAdminPort,
      mappingVersion: inputs.routerStats?.mappingVersion ?? null,
      customersMapped: inputs.routerStats?.customersMapped ?? null,
      auth: inputs.auth,
    },
    cells,
    migrations,
    migrationsNeedingAttention: migrations.filter((migration) => migration.progress === 'interrupted'),
  };
}

export interface HealthVerdict {
  healthy: boolean;
  problems: string[];
}

/** Healthy when the router and every cell that was started are running and pass their checks. */
export function judgeHealth(report: StatusReport): HealthVerdict {
  const problems: string[] = [];
  if (report.supervisor.state !== 'running') problems.push('the supervisor is not running: start the system with "cellctl start"');
  const describe = (name: string, row: ProcessRow) => {
    if (row.state !== 'running') problems.push(`${name} is ${row.state}${row.lastError ? ` (${row.lastError})` : ''}`);
    else if (row.healthy !== true) problems.push(`${name} is running but fails its health check`);
  };
  describe('router', report.router);
  for (const cell of report.cells) if (cell.state !== 'stopped') describe(`cell ${cell.id}`, cell);
  return { healthy: problems.length === 0, problems };
}
