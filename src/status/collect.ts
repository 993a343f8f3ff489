// Gathers what status needs from the live system: the control plane, the supervisor, the router's admin
// API and each running cell's health endpoint, all in parallel with short timeouts.
import os from 'node:os';
import { type CellHealth, probeCellHealth, probeHealth } from '../cell/client.js';
import type { CellRecord, MigrationRecord, RouterRecord } from '../control/plane.js';
import { type HealthCheck, WRITES_CHECK } from '../shared/health.js';
import { describeError } from '../shared/errors.js';
import { engineRuntime } from '../workspace/engines.js';
import { type EngineProcesses, engineProcessesOf } from './containers.js';
import { judgeOwner, localProbe, ownerName } from '../control/ownership.js';
import { RouterAdmin, routerPublicUrl, type RouterStats } from '../router/client.js';
import type { MappingConfirmationState } from '../router/protocol.js';
import { isLoopbackUrl } from '../shared/urls.js';
import { readAdminToken } from '../workspace/secrets.js';
import { findSupervisor } from '../supervisor/client.js';
import { livePid } from '../shared/procfs.js';
import { ROUTER, type SupervisorStatus } from '../supervisor/protocol.js';
import { processPaths } from '../workspace/paths.js';
import type { Workspace } from '../workspace/workspace.js';
import { buildStatus, type RuntimeRow, type StatusReport } from './model.js';

function runBy(migration: MigrationRecord, now: number): string | null {
  const verdict = judgeOwner(migration, now, localProbe);
  return verdict.kind === 'in-progress' ? ownerName(verdict.owner, localProbe.host) : null;
}

/**
 * What each registered router's admin API says of its mapping (1 s each, in parallel). A loopback
 * admin URL registered on another host is not asked: here it would reach this host's loopback.
 */
async function routerMappings(home: string, routers: RouterRecord[]): Promise<Map<string, MappingConfirmationState>> {
  const token = readAdminToken(home);
  const asked = routers.filter((router) => !isLoopbackUrl(router.adminUrl) || router.host === os.hostname());
  const answers = await Promise.all(asked.map((router) => new RouterAdmin(router.adminUrl, token, 1_000).health().catch(() => null)));
  const found = new Map<string, MappingConfirmationState>();
  answers.forEach((answer, index) => {
    if (answer?.mapping) found.set(asked[index]!.id, answer.mapping);
  });
  return found;
}

/** The failing checks of a health answer, as one line (their "unhealthy: " prefix dropped). */
const failingChecks = (health: CellHealth): string =>
  health.checks
    .filter((check) => !check.ok)
    .map((check) => (check.detail ?? check.name).replace(/^unhealthy: /, ''))
    .join('; ');

/**
 * A cell's app health at its URL, and its data API's write probe: a user's app does not know that
 * its database refuses writes, the companion beside it (cell-agent) does. A data API of this
 * workspace's that does not answer at all makes the cell unhealthy too: no move, purge or audit can
 * reach its rows (a companion stuck at its start behind another writer's lock looked healthy).
 */
async function probeCell(cell: CellRecord): Promise<{ healthy: boolean; detail: string | null }> {
  const dataUrl = cell.dataUrl.replace(/\/$/, '');
  const [app, data] = await Promise.all([probeCellHealth(cell.url, cell.healthPath), probeHealth(`${dataUrl}/health`)]);
  const problem = dataProblem(app, data, dataUrl, cell.managed);
  if (problem && !app.checks.some((check) => check.name === problem.name && !check.ok)) app.checks.push(problem);
  const healthy = app.healthy && !problem;
  return { healthy, detail: healthy ? null : failingChecks(app) || null };
}

/**
 * What the data API's answer adds to the app's: its refused write probe, or (for a cell this
 * workspace runs) that it does not answer while the app does. A registered cell's data API is its
 * operator's, checked when a move or an audit needs it (cells register --no-check).
 */
function dataProblem(app: CellHealth, data: CellHealth, dataUrl: string, managed: boolean): HealthCheck | undefined {
  if (data.status !== null) return data.checks.find((check) => check.name === WRITES_CHECK && !check.ok);
  // When neither answers, the cell's own "does not answer its health check" says it.
  if (!managed || app.status === null) return undefined;
  return { name: 'data_api', ok: false, detail: `its data API at ${dataUrl} does not answer (${data.error})` };
}

/** On the docker runtime: the engine's containers as processes, or why the engine did not answer. */
async function engineState(ws: Workspace): Promise<{ runtime: RuntimeRow; found: EngineProcesses | null }> {
  const engine = engineRuntime(ws)!;
  const runtime: RuntimeRow = { kind: ws.settings.runtime, engine: engine.engine.name, image: engine.image, error: null };
  try {
    return { runtime, found: await engineProcessesOf(engine) };
  } catch (error) {
    return { runtime: { ...runtime, error: describeError(error) }, found: null };
  }
}

export async function collectStatus(ws: Workspace): Promise<StatusReport> {
  const cells = await ws.plane.listCells();
  const onEngine = ws.settings.runtime !== 'local' ? await engineState(ws) : null;
  const client = onEngine ? null : findSupervisor(ws.home);
  const supervisor: SupervisorStatus | null = client ? await client.status().catch(() => null) : null;
  const orphanPids = new Map<string, number>();
  if (!supervisor && !onEngine) {
    for (const name of [ROUTER, ...cells.filter((cell) => cell.managed).map((cell) => cell.id)]) {
      const pid = livePid(processPaths(ws.home, name).pidFile, ws.home, name);
      if (pid !== null) orphanPids.set(name, pid);
    }
  }
  const processes = supervisor?.processes ?? onEngine?.found?.processes ?? [];
  const isUp = (name: string) =>
    orphanPids.has(name) || processes.some((proc) => proc.name === name && (proc.state === 'running' || proc.state === 'starting'));
  const health = new Map<string, boolean>();
  const healthDetail = new Map<string, string>();
  // A registered cell runs elsewhere: whether it answers at its URL is all there is to know.
  const probes = cells
    .filter((cell) => !cell.managed || isUp(cell.id))
    .map(async (cell) => {
      const { healthy, detail } = await probeCell(cell);
      health.set(cell.id, healthy);
      if (detail !== null) healthDetail.set(cell.id, detail);
    });
  const routerUp = isUp(ROUTER);
  const routerProbe = routerUp ? probeCellHealth(routerPublicUrl(ws.settings), '/health').then((result) => health.set(ROUTER, result.healthy)) : null;
  const admin = routerUp ? RouterAdmin.forWorkspace(ws.home, ws.settings, 2_000) : null;
  const stats: Promise<RouterStats | null> = admin ? admin.stats().catch(() => null) : Promise.resolve(null);
  const routerHealth = admin ? admin.health().catch(() => null) : Promise.resolve(null);
  const routers = await ws.plane.listRouters(ws.settings.routerStaleAfterMs);
  const mappings = routerMappings(ws.home, routers);
  const [routerStats, routerView, routerMappingsById] = await Promise.all([stats, routerHealth, mappings, routerProbe, ...probes]);
  const now = Date.now();
  return buildStatus({
    home: ws.home,
    controlPlane: { kind: ws.plane.kind, where: ws.plane.where },
    routers,
    routerMappings: routerMappingsById,
    now,
    cells,
    customerCounts: await ws.plane.customerCounts(),
    supervisor,
    ...(onEngine ? { runtime: onEngine.runtime, engineProcesses: onEngine.found?.processes ?? [], engine: onEngine.found?.engine ?? new Map() } : {}),
    orphanPids,
    health,
    healthDetail,
    routerStats,
    routerControlPlane: routerView?.controlPlane ?? null,
    routerMapping: routerView?.mapping ?? null,
    routerPort: ws.settings.routerPort,
    routerAdminPort: ws.settings.routerAdminPort,
    auth: ws.settings.auth,
    placementTemplate: ws.settings.placementTemplate,
    runningMigrations: (await ws.plane.listMigrations({ state: 'running', limit: 100 })).map((migration) => ({ migration, runBy: runBy(migration, now) })),
  });
}
