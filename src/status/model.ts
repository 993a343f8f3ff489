// What `cellctl status` and `cellctl health` report, as pure functions of what was collected.
import { NODE_DOWN } from './containers.js';
import { WRITES_REFUSED } from '../shared/health.js';
import type { PlaneBehind } from '../workspace/cell-data.js';
import { type CellRecord, fenceLifted, type MigrationRecord, type PlaneKind, type RouterRecord } from '../control/plane.js';
import type { MappingConfirmationState, RouterEnforcing, RouterHealth, RouterStats } from '../router/protocol.js';
import type { ProcessState, ProcessStatus } from '../supervisor/protocol.js';

/** `registered`: a cell run elsewhere (registered by URL); cellctl has no process of it. */
export type ShownState = ProcessState | 'orphaned' | 'registered';

export interface ProcessRow {
  state: ShownState;
  pid: number | null;
  port: number | null;
  uptimeSeconds: number | null;
  restarts: number;
  healthy: boolean | null;
  lastError: string | null;
}

/** What an engine runtime says of a process's container (status -o wide and JSON). */
export interface EngineRow {
  container: string;
  image: string;
  status: string;
  health: string | null;
}

/** Who runs the workspace's processes; for an engine, whether it answered. */
export interface RuntimeRow {
  kind: 'local' | 'docker' | 'swarm';
  /** The engine (DOCKER_HOST, or the local socket); null on local. */
  engine: string | null;
  image: string | null;
  /** Why the engine did not answer; null when it did (or on local). */
  error: string | null;
}

export interface CellRow extends ProcessRow {
  id: string;
  /** Its container, on an engine runtime (null: local, or no container). */
  engine: EngineRow | null;
  template: string;
  /** Where the router sends the cell's customers. */
  url: string;
  /** False for a cell registered by URL and run by someone else. */
  managed: boolean;
  status: CellRecord['status'];
  customers: number;
  capacity: number;
  requests: number | null;
  errors: number | null;
}

/** A router registered in the control plane (any host), as status shows it. */
export interface RegisteredRouterRow {
  id: string;
  adminUrl: string;
  publicUrl: string;
  pid: number;
  host: string;
  heartbeatAgeMs: number;
  live: boolean;
  /** What its admin API says of its mapping; null when it did not answer (or was not asked: a loopback URL of another host). */
  mapping: MappingConfirmationState | null;
}

export interface StatusReport {
  home: string;
  /** Where the control plane is (a control.db path, or a PostgreSQL URL without its password). */
  controlPlane: { kind: PlaneKind; where: string };
  /** Every router registered in the control plane, live or not (heart-beat within routerStaleAfterMs). */
  routers: RegisteredRouterRow[];
  runtime: RuntimeRow;
  supervisor: { state: 'running' | 'stopped'; pid: number | null; uptimeSeconds: number | null };
  router: ProcessRow & {
    /** Its container, on an engine runtime. */
    engine: EngineRow | null;
    /** Its id among the registered routers (null when it did not answer). */
    id: string | null;
    adminPort: number;
    mappingVersion: number | null;
    customersMapped: number | null;
    /** The auth mode the running router enforces (cellctl.json's when no router answers). */
    auth: string;
    /** What the running router enforces, from its own stats; null when it did not answer. */
    enforcing: RouterEnforcing | null;
    /** Whether the running router can read control.db (null when it did not answer). */
    controlPlane: { ok: true } | { ok: false; error: string } | null;
    /** Whether it answers for customers (refused while unconfirmed); null when it did not answer. */
    mapping: MappingConfirmationState | null;
  };
  /** New customers are placed only in cells of this template (null: any). */
  placementTemplate: string | null;
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
  /** The router's fence is lifted for good (step released or later): the target serves the customer. */
  fenceLifted: boolean;
  /** Who runs an in-progress one ("pid 1234"); null when interrupted. */
  runBy: string | null;
}

export interface StatusInputs {
  home: string;
  /** Where the control plane is; unknown when not given. */
  controlPlane?: { kind: PlaneKind; where: string };
  routers?: RouterRecord[];
  /** Each registered router's mapping state, by id, from its admin API (absent: no answer). */
  routerMappings?: ReadonlyMap<string, MappingConfirmationState>;
  now: number;
  cells: CellRecord[];
  customerCounts: Map<string, number>;
  supervisor: { pid: number; startedAt: string; processes: ProcessStatus[] } | null;
  /** On an engine runtime: the engine, its containers as processes, and its view of each. */
  runtime?: RuntimeRow;
  engineProcesses?: ProcessStatus[];
  engine?: ReadonlyMap<string, EngineRow>;
  /** Pids found alive in pid files while no supervisor runs. */
  orphanPids: Map<string, number>;
  health: Map<string, boolean>;
  /** Why a process that answered fails its health check (its failing checks), when it said. */
  healthDetail?: Map<string, string>;
  /** The router's admin stats, as its protocol module defines them; null when it did not answer. */
  routerStats: RouterStats | null;
  /** The router's own view of control.db, from its health answer; null when it did not answer. */
  routerControlPlane?: RouterHealth['controlPlane'] | null;
  /** The router's mapping state, from its health answer; null when it did not answer. */
  routerMapping?: MappingConfirmationState | null;
  routerPort: number;
  routerAdminPort: number;
  auth: string;
  placementTemplate?: string | null;
  /** Running migrations, each with its owner's name when that owner still runs it. */
  runningMigrations: { migration: MigrationRecord; runBy: string | null }[];
}

const uptime = (startedAt: string | null, now: number): number | null => (startedAt ? Math.max(0, Math.round((now - Date.parse(startedAt)) / 1000)) : null);

/** A registered cell has no process here: it is what its URL answers. */
function registeredRow(name: string, inputs: StatusInputs, port: number): ProcessRow {
  const healthy = inputs.health.get(name) ?? false;
  return {
    state: 'registered',
    pid: null,
    port,
    uptimeSeconds: null,
    restarts: 0,
    healthy,
    lastError: healthy ? null : (inputs.healthDetail?.get(name) ?? 'does not answer its health check at its URL'),
  };
}

function processRow(name: string, inputs: StatusInputs, port: number): ProcessRow {
  const proc = (inputs.supervisor?.processes ?? inputs.engineProcesses)?.find((candidate) => candidate.name === name);
  const orphan = inputs.orphanPids.get(name);
  if (!proc) {
    return {
      state: orphan ? 'orphaned' : 'stopped',
      pid: orphan ?? null,
      port,
      uptimeSeconds: null,
      restarts: 0,
      healthy: orphan ? (inputs.health.get(name) ?? null) : null,
      lastError: null,
    };
  }
  const live = proc.state === 'running' || proc.state === 'starting';
  const healthy = live ? (inputs.health.get(name) ?? proc.healthy) : null;
  const detail = healthy === false ? (inputs.healthDetail?.get(name) ?? null) : null;
  return {
    state: proc.state,
    pid: proc.pid,
    port,
    uptimeSeconds: live ? uptime(proc.startedAt, inputs.now) : null,
    restarts: proc.restarts,
    healthy,
    lastError: detail ?? proc.lastError ?? (proc.state === 'running' ? null : proc.lastExit),
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
    fenceLifted: fenceLifted(migration.step),
    runBy,
  }));
  const cells = inputs.cells.map((cell): CellRow => {
    const counters = inputs.routerStats?.cells[cell.id];
    return {
      id: cell.id,
      engine: inputs.engine?.get(cell.id) ?? null,
      template: cell.template,
      url: cell.url,
      managed: cell.managed,
      status: cell.status,
      ...(cell.managed ? processRow(cell.id, inputs, cell.port) : registeredRow(cell.id, inputs, cell.port)),
      customers: inputs.customerCounts.get(cell.id) ?? 0,
      capacity: cell.capacity,
      requests: counters?.requests ?? null,
      errors: counters?.errors ?? null,
    };
  });
  return {
    home: inputs.home,
    controlPlane: inputs.controlPlane ?? { kind: 'sqlite', where: 'control.db' },
    routers: (inputs.routers ?? []).map(({ id, adminUrl, publicUrl, pid, host, heartbeatAgeMs, live }) => ({
      id,
      adminUrl,
      publicUrl,
      pid,
      host,
      heartbeatAgeMs,
      live,
      mapping: inputs.routerMappings?.get(id) ?? null,
    })),
    runtime: inputs.runtime ?? { kind: 'local', engine: null, image: null, error: null },
    supervisor: inputs.supervisor
      ? { state: 'running', pid: inputs.supervisor.pid, uptimeSeconds: uptime(inputs.supervisor.startedAt, inputs.now) }
      : { state: 'stopped', pid: null, uptimeSeconds: null },
    router: {
      ...processRow('router', inputs, inputs.routerPort),
      engine: inputs.engine?.get('router') ?? null,
      id: inputs.routerStats?.id ?? null,
      adminPort: inputs.routerAdminPort,
      mappingVersion: inputs.routerStats?.mappingVersion ?? null,
      customersMapped: inputs.routerStats?.customersMapped ?? null,
      auth: inputs.routerStats?.enforcing.auth ?? inputs.auth,
      enforcing: inputs.routerStats?.enforcing ?? null,
      controlPlane: inputs.routerControlPlane ?? null,
      mapping: inputs.routerMapping ?? null,
    },
    placementTemplate: inputs.placementTemplate ?? null,
    cells,
    migrations,
    migrationsNeedingAttention: migrations.filter((migration) => migration.progress === 'interrupted'),
  };
}

export interface HealthProblem {
  problem: string;
  /** Customers whose requests are refused because of it (0 when none are). */
  customers: number;
  /** The command that helps. */
  fix: string;
}

export interface HealthVerdict {
  healthy: boolean;
  problems: string[];
  /** Customers refused now, counted once each (a bound, when several problems hit the same ones). */
  customersAffected: number;
  details: HealthProblem[];
  /** What needs doing but refuses nobody (a move interrupted after its fence was lifted): said, not failed on. */
  notes: string[];
}

const totalCustomers = (report: StatusReport): number => report.cells.reduce((sum, cell) => sum + cell.customers, 0);

function processProblem(name: string, row: ProcessRow): string | null {
  if (row.state === 'registered')
    return row.healthy === true ? null : `${name} (registered, run elsewhere) ${row.lastError ?? 'does not answer its health check'}`;
  if (row.state !== 'running') return `${name} is ${row.state}${row.lastError ? ` (${row.lastError})` : ''}`;
  if (row.healthy !== true) return `${name} is running but fails its health check${row.lastError ? `: ${row.lastError}` : ''}`;
  return null;
}

/** A cell whose database refuses writes: another writer holds its lock, which a restart does not free. */
const refusesWrites = (cell: CellRow): boolean => cell.healthy === false && (cell.lastError ?? '').includes(WRITES_REFUSED);

/**
 * A folder that runs nothing here — no supervisor, no supervised router, no cell of its own — while the
 * control plane lists routers: an operator's folder on another host than the system's processes.
 */
export function runsNothingHere(report: StatusReport): boolean {
  return report.supervisor.state === 'stopped' && report.router.state === 'stopped' && report.cells.every((cell) => !cell.managed) && report.routers.length > 0;
}

/** Judged from an operator's folder: customers are refused only when no router the control plane lists is live. */
function registeredRouterProblems(report: StatusReport): HealthProblem[] {
  if (report.routers.some((router) => router.live)) return unconfirmedRouterProblems(report);
  return [
    {
      problem: `no router is live: the control plane lists ${report.routers.length} router(s), none heart-beating within routerStaleAfterMs`,
      customers: totalCustomers(report),
      fix: 'start the routers where they run (cellctl start router, or cellctl router serve); cellctl status lists them',
    },
  ];
}

/** How a router that refuses customers for want of a confirmed mapping is named in health and status. */
export function unconfirmedText(mapping: MappingConfirmationState | null): string | null {
  if (mapping === null || mapping.confirmed) return null;
  return `mapping unconfirmed since ${mapping.unconfirmedSince}`;
}

const UNCONFIRMED_FIX =
  'let it reach the control plane again (cellctl logs router; restored the control plane from a backup? then "cellctl repair --dry-run"; the router confirms its mapping by itself once it can)';

/** Registered routers (other than the supervised one) that answer but refuse customers: their clients are refused. */
function unconfirmedRouterProblems(report: StatusReport): HealthProblem[] {
  const supervised = report.router.id;
  return report.routers
    .filter((router) => router.id !== supervised && unconfirmedText(router.mapping) !== null)
    .map((router) => ({
      problem: `router ${router.id} (${router.publicUrl}) refuses every customer's requests (503 mapping_unconfirmed): ${unconfirmedText(router.mapping)}`,
      customers: totalCustomers(report),
      fix: UNCONFIRMED_FIX,
    }));
}

function routerProblems(report: StatusReport): HealthProblem[] {
  if (runsNothingHere(report)) return registeredRouterProblems(report);
  const everyone = totalCustomers(report);
  const found: HealthProblem[] = [];
  if (report.runtime.kind === 'local' && report.supervisor.state !== 'running')
    found.push({ problem: 'the supervisor is not running', customers: 0, fix: 'cellctl start' });
  if (report.runtime.error !== null) {
    found.push({
      problem: `${report.runtime.engine} does not answer (${report.runtime.error}): what it runs cannot be seen or started`,
      customers: 0,
      fix: 'start dockerd there, or set DOCKER_HOST to the engine that runs this workspace',
    });
  }
  const router = processProblem('router', report.router);
  const unconfirmed = unconfirmedText(report.router.mapping);
  if (router) found.push({ problem: router, customers: everyone, fix: 'cellctl restart router; cellctl logs router' });
  else if (unconfirmed) {
    found.push({
      problem: `the router refuses every customer's requests (503 mapping_unconfirmed): ${unconfirmed}`,
      customers: everyone,
      fix: UNCONFIRMED_FIX,
    });
  }
  if (!router && report.router.controlPlane && !report.router.controlPlane.ok) {
    found.push({
      problem: `the router cannot read the control plane (${report.router.controlPlane.error}); it cannot place new customers or see moves, and refuses customers' requests once routerStaleAfterMs passed without reading it`,
      customers: everyone,
      fix: 'cellctl logs router (restore or fix control.db, or bring PostgreSQL back; the router re-reads it every second)',
    });
  }
  return [...found, ...unconfirmedRouterProblems(report)];
}

function cellFix(cell: CellRow): string {
  if (refusesWrites(cell))
    return `find what keeps a write transaction open on ${cell.id}'s database (its app, a sqlite3 shell) and let it finish; a restart does not free the lock`;
  if (cell.state === 'registered') return `start it where it runs, or check that ${cell.url} is reachable from here (curl ${cell.url}/health)`;
  if (cell.lastError?.startsWith(`${NODE_DOWN} `))
    return `bring the node back (its dockerd, its link): the engine restarts ${cell.id} there with its data ("docker node ls" on a manager shows it)`;
  return cell.state === 'running' ? `cellctl logs ${cell.id}; cellctl restart ${cell.id}` : `cellctl start ${cell.id}`;
}

function cellProblems(report: StatusReport): HealthProblem[] {
  const found: HealthProblem[] = [];
  for (const cell of report.cells) {
    // A stopped cell with no customers refuses nobody; one that holds customers refuses them all.
    if (cell.state === 'stopped' && cell.customers === 0) continue;
    // So does a registered cell that does not answer: said as a note (idleCellNotes), not failed on.
    if (idleAndSilent(cell)) continue;
    const problem = processProblem(`cell ${cell.id}`, cell);
    if (problem)
      found.push({
        problem,
        customers: cell.customers,
        fix: cellFix(cell),
      });
  }
  return found;
}

/** A registered cell that does not answer and holds no customers: nobody is refused. */
const idleAndSilent = (cell: CellRow): boolean => cell.state === 'registered' && cell.healthy !== true && cell.customers === 0;

function idleCellNotes(report: StatusReport): string[] {
  return report.cells
    .filter(idleAndSilent)
    .map(
      (cell) =>
        `cell ${cell.id} (registered) ${cell.lastError ?? 'does not answer its health check'}; it holds no customers, so nobody is refused (${cellFix(cell)})`,
    );
}

function migrationProblems(report: StatusReport): HealthProblem[] {
  // An in-progress move fences its customer briefly and by design; an interrupted one holds it until
  // someone acts, unless it stopped after lifting the fence (then the target serves the customer).
  return report.migrationsNeedingAttention
    .filter((migration) => !migration.fenceLifted)
    .map((migration) => ({
      problem: `migration ${migration.id} of ${migration.customerId} (${migration.from} -> ${migration.to}) was interrupted at "${migration.step}"; its customer is fenced`,
      customers: 1,
      fix: `cellctl migrate resume ${migration.id} (or: cellctl migrate abort ${migration.id})`,
    }));
}

/** Interrupted moves whose customer is served (fence lifted), with what is left to do. */
function migrationNotes(report: StatusReport): string[] {
  return report.migrationsNeedingAttention
    .filter((migration) => migration.fenceLifted)
    .map(
      (migration) =>
        `migration ${migration.id} of ${migration.customerId} (${migration.from} -> ${migration.to}) was interrupted at "${migration.step}", after its fence was lifted: ${migration.to} serves the customer, and its old rows in ${migration.from} wait for "cellctl migrate resume ${migration.id}"`,
    );
}

/**
 * Healthy only when no customer would be refused: router, control store and every cell that holds
 * customers (or was started) are up and pass their checks, and no interrupted move fences anyone.
 * From a folder that runs nothing here, "the router" is any live router the control plane lists.
 */

/** The plane behind its cells refuses moves, and its mapping may not say where rows are: a problem, whoever it refuses. */
const planeBehindProblems = (behind: PlaneBehind | null): HealthProblem[] =>
  behind === null
    ? []
    : [
        {
          problem: `the control plane is behind its cells: ${behind.cellId} has seen fencing number ${behind.fencing}, the control plane has issued only up to ${behind.issued} (restored from a backup?); moves refuse to run and the mapping may not say where customers' rows are`,
          customers: 0,
          fix: 'cellctl repair --dry-run, then cellctl repair --yes',
        },
      ];

export function judgeHealth(report: StatusReport, behind: PlaneBehind | null = null): HealthVerdict {
  const details = [...routerProblems(report), ...cellProblems(report), ...migrationProblems(report), ...planeBehindProblems(behind)];
  const customersAffected = Math.min(
    totalCustomers(report) + report.migrationsNeedingAttention.length,
    details.reduce((sum, detail) => sum + detail.customers, 0),
  );
  return {
    healthy: details.length === 0,
    problems: details.map((detail) => `${detail.problem}${detail.customers > 0 ? ` — ${detail.customers} customer(s) refused` : ''}; run: ${detail.fix}`),
    customersAffected,
    details,
    notes: [...migrationNotes(report), ...idleCellNotes(report)],
  };
}

/**
 * Health when cellctl itself cannot read control.db (so no status report can be built): unhealthy,
 * with what the router, which keeps serving from the mapping in memory, says of the same file.
 */
export function judgeUnreadableControl(
  reason: string,
  routerControlPlane: RouterHealth['controlPlane'] | null,
  routerMapping: MappingConfirmationState | null = null,
  kind: PlaneKind = 'sqlite',
): HealthVerdict {
  const details: HealthProblem[] = [
    {
      problem: `the control plane cannot be read (${reason})`,
      customers: 0,
      // What to bring back depends on where the control plane is: a file here, or a PostgreSQL server.
      fix:
        kind === 'postgres'
          ? 'bring PostgreSQL back, or correct the URL in secrets/control-url (a database restored from a backup is behind its cells: then "cellctl repair --dry-run")'
          : 'restore control.db from a backup (then "cellctl repair --dry-run": a backup is behind its cells)',
    },
  ];
  if (routerControlPlane === null) {
    details.push({ problem: 'the router did not answer, so whether it still serves is unknown', customers: 0, fix: 'cellctl logs router' });
  } else if (!routerControlPlane.ok) {
    const refusing = unconfirmedText(routerMapping);
    details.push({
      problem: `the router cannot read the control plane either (${routerControlPlane.error}); ${
        refusing
          ? `it refuses every customer's requests (503 mapping_unconfirmed): ${refusing}`
          : 'it refuses customers once routerStaleAfterMs passed without reading it'
      }`,
      customers: 0,
      fix: 'restore the control plane; the router re-reads it every second',
    });
  }
  return { healthy: false, problems: details.map((detail) => `${detail.problem}; run: ${detail.fix}`), customersAffected: 0, details, notes: [] };
}
