// The status table: one row per process, coloured by state.
import { type ProcessRow, type RegisteredRouterRow, runsNothingHere, type ShownState, type StatusReport, unconfirmedText } from '../../status/model.js';
import { formatDuration, paint, renderTable } from '../output.js';

const STATE_LABEL: Record<ShownState, string> = {
  running: 'running',
  starting: 'starting',
  stopping: 'stopping',
  stopped: 'stopped',
  backoff: 'backing off',
  crashed: 'crash-loop',
  failed: 'failed',
  orphaned: 'orphaned',
  registered: 'registered',
};

function stateCell(state: ShownState): string {
  const label = STATE_LABEL[state];
  if (state === 'running' || state === 'registered') return paint.green(label);
  if (state === 'starting' || state === 'backoff' || state === 'stopping') return paint.yellow(label);
  if (state === 'stopped') return paint.gray(label);
  return paint.red(label);
}

function healthCell(row: ProcessRow): string {
  if (row.healthy === null) return paint.gray('-');
  return row.healthy ? paint.green('healthy') : paint.red('unhealthy');
}

const orDash = (value: number | string | null): string | number => (value === null ? '-' : value);
const uptimeCell = (seconds: number | null) => (seconds === null ? '-' : formatDuration(seconds * 1000));

/** Columns of the default table, which fits 80 columns; `-o wide` shows them all. */
const NARROW = new Set(['name', 'state', 'pid', 'health', 'customers', 'errors']);

/** A long location (a deep control.db path) shortened in its middle to `room` characters; -o wide keeps it whole. */
function elideMiddle(text: string, room: number): string {
  if (text.length <= room) return text;
  const keep = Math.max(8, room - 1);
  const tail = Math.floor(keep / 2);
  return `${text.slice(0, keep - tail)}…${text.slice(text.length - tail)}`;
}

export function renderStatus(report: StatusReport, wide = false): string {
  const head = ['name', 'state', 'pid', 'port', 'uptime', 'restarts', 'health', 'customers', 'requests', 'errors', 'url'];
  // On an engine runtime the engine stands where the supervisor does: it runs and restarts them.
  const first =
    report.runtime.kind === 'local'
      ? ['supervisor', stateCell(report.supervisor.state), orDash(report.supervisor.pid), '-', uptimeCell(report.supervisor.uptimeSeconds)]
      : [`engine (${report.runtime.kind})`, report.runtime.error === null ? paint.green('answers') : paint.red('no answer'), '-', '-', '-'];
  const rows: (string | number)[][] = [
    [...first, '-', '-', '-', '-', '-', '-'],
    [
      'router',
      stateCell(report.router.state),
      orDash(report.router.pid),
      report.router.port ?? '-',
      uptimeCell(report.router.uptimeSeconds),
      report.router.restarts,
      healthCell(report.router),
      orDash(report.router.customersMapped),
      '-',
      '-',
      '-',
    ],
    ...report.cells.map((cell) => [
      `${cell.id} (${cell.template}${cell.status === 'active' ? '' : `, ${cell.status}`})`,
      stateCell(cell.state),
      orDash(cell.pid),
      orDash(cell.port),
      uptimeCell(cell.uptimeSeconds),
      cell.restarts,
      healthCell(cell),
      `${cell.customers}/${cell.capacity}`,
      orDash(cell.requests),
      cell.errors ? paint.red(String(cell.errors)) : orDash(cell.errors),
      cell.url,
    ]),
  ];
  const shown = head.map((title, index) => (wide || NARROW.has(title) ? index : -1)).filter((index) => index >= 0);
  const table = renderTable(
    shown.map((index) => head[index]!),
    rows.map((row) => shown.map((index) => row[index]!)),
    { wide },
  );
  const lines = [table, `new customers are placed in: ${report.placementTemplate ?? 'any'} cells; router auth: ${report.router.auth}`];
  const kind = report.controlPlane.kind === 'postgres' ? 'PostgreSQL' : 'SQLite';
  const where = wide ? report.controlPlane.where : elideMiddle(report.controlPlane.where, 80 - `control plane:  (${kind})`.length);
  lines.push(`control plane: ${where} (${kind})`);
  if (report.runtime.kind !== 'local') lines.push(renderRuntime(report, wide));
  if (runsNothingHere(report)) lines.push('no supervised process runs from this folder here: the routers are the registered ones below');
  const refusing = unconfirmedText(report.router.mapping);
  if (refusing) lines.push(paint.red(`router: ${refusing}; it refuses customers' requests (503 mapping_unconfirmed) until it reads the control plane again`));
  if (report.routers.length > 0) lines.push(renderRouters(report.routers, wide));
  const pending = report.router.enforcing?.needsRestart ?? [];
  if (pending.length > 0) lines.push(paint.yellow(`the router applies ${pending.join(', ')} once restarted: cellctl restart router`));
  // The narrow table has no room for URLs: registered cells (run elsewhere) are named below it.
  if (!wide) for (const cell of report.cells.filter((row) => !row.managed)) lines.push(`${cell.id} is registered at ${cell.url} (run elsewhere)`);
  // Cells that crashed or back off, and running ones that said why they fail their health check (a database that refuses writes).
  const troubled = report.cells.filter(
    (cell) => cell.lastError && cell.state !== 'stopped' && cell.state !== 'registered' && (cell.state !== 'running' || cell.healthy === false),
  );
  for (const cell of troubled) lines.push(paint.red(`${cell.id}: ${cell.lastError}`));
  for (const migration of report.migrations) {
    const what = `migration ${migration.id} of ${migration.customerId} (${migration.from} → ${migration.to})`;
    lines.push(
      migration.progress === 'in-progress'
        ? `${what} in progress, at step "${migration.step}", run by ${migration.runBy}`
        : paint.yellow(
            `${what} interrupted after step "${migration.step}": run "cellctl migrate resume ${migration.id}" or "cellctl migrate abort ${migration.id}"`,
          ),
    );
  }
  return lines.join('\n');
}

/** An engine runtime: the engine and image, and (wide) each process's container; or why the engine did not answer. */
function renderRuntime(report: StatusReport, wide: boolean): string {
  const head = `runtime: ${report.runtime.kind} on ${report.runtime.engine}, image ${report.runtime.image}`;
  if (report.runtime.error !== null) return paint.red(`${head}: no answer (${report.runtime.error})`);
  if (!wide) return head;
  const rows = [['router', report.router.engine] as const, ...report.cells.map((cell) => [cell.id, cell.engine] as const)].map(([name, engine]) =>
    engine ? [name, engine.container, engine.status, engine.health ?? '-', engine.image] : [name, '-', 'no container', '-', '-'],
  );
  return `${head}\n${renderTable(['process', 'container', 'engine state', 'engine health', 'image'], rows)}`;
}

/** The routers registered in the control plane (every host's), each live or stale by its heartbeat; `wide` adds the pid and the public URL. */
export function renderRouters(routers: readonly RegisteredRouterRow[], wide = false): string {
  const rows = routers.map((router) => [
    router.id,
    router.live ? paint.green('live') : paint.red('stale'),
    wide ? `${router.pid}@${router.host}` : router.host,
    formatDuration(router.heartbeatAgeMs),
    mappingCell(router),
    router.adminUrl,
    router.publicUrl,
  ]);
  const refusing = routers.flatMap((router) => {
    const text = unconfirmedText(router.mapping);
    return text ? [paint.red(`router ${router.id}: ${text}; it refuses customers' requests (503 mapping_unconfirmed)`)] : [];
  });
  // Without -o wide the public URL gives way: the admin URL is the one a move calls.
  const head = ['router', 'state', wide ? 'pid@host' : 'host', 'heartbeat', 'mapping', 'admin URL', ...(wide ? ['public URL'] : [])];
  const table = renderTable(
    head,
    rows.map((row) => row.slice(0, head.length)),
    { wide },
  );
  return [`registered routers:\n${table}`, ...refusing].join('\n');
}

/** Confirmed or not (the router says so; since when is named under the table), or '-' when it did not answer. */
function mappingCell(router: RegisteredRouterRow): string {
  if (router.mapping === null) return paint.gray('-');
  return router.mapping.confirmed ? paint.green('confirmed') : paint.red('unconfirmed');
}
