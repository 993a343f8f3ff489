// Gathers what moveRefusal needs to know about a proposed move: the mapping, the cells, the target's
// process and health, and the schema versions actually in the two data.db files.
import { probeCellHealth } from '../cell/client.js';
import type { CellRecord } from '../control/plane.js';
import { findSupervisor } from '../supervisor/client.js';
import { requireCurrentApi, withCellData } from '../workspace/cell-data.js';
import { isCellctlError } from '../shared/errors.js';
import type { Workspace } from '../workspace/workspace.js';
import { judgeOwner, localProbe, ownerName } from '../control/ownership.js';
import type { MoveCheck, TargetLiveness } from './plan.js';

/** Liveness of each cell's process: `offline` for all when no supervisor runs (an offline move); on an engine, what its URL answers. */
export async function cellLiveness(ws: Workspace, cellIds: string[]): Promise<Map<string, TargetLiveness>> {
  const result = new Map<string, TargetLiveness>();
  const supervisor = findSupervisor(ws.home);
  const status = supervisor ? await supervisor.status().catch(() => null) : null;
  await Promise.all(
    cellIds.map(async (id) => {
      const cell = await ws.plane.getCell(id);
      // A registered cell runs elsewhere, supervisor or not: it is what its URL answers.
      const probe = async () => ((await probeCellHealth(cell!.url, cell!.healthPath)).healthy ? 'running' : 'unhealthy');
      if (cell && !cell.managed) return result.set(id, await probe());
      // On an engine the engine runs it: a cell that does not answer at its URL is stopped (or its node lost).
      if (cell && ws.settings.runtime !== 'local') {
        const health = await probeCellHealth(cell.url, cell.healthPath);
        return result.set(id, health.healthy ? 'running' : health.status === null ? 'stopped' : 'unhealthy');
      }
      if (!status) return result.set(id, 'offline');
      const proc = status.processes.find((candidate) => candidate.name === id);
      if (!proc || proc.state !== 'running') return result.set(id, 'stopped');
      result.set(id, await probe());
    }),
  );
  return result;
}

/**
 * The schema version the cell's data API reports (null when the cell is unknown or its data API does
 * not answer). A data API that answers wrongly (another cell, another version) is said as it is.
 */
async function dataVersion(ws: Workspace, cell: CellRecord | undefined): Promise<number | null> {
  if (!cell) return null;
  return withCellData(ws, cell, async (api) => {
    const info = await api.info();
    requireCurrentApi(cell, info.api);
    return info.schema_version;
  }).catch((error: unknown) => {
    if (isCellctlError(error) && error.code === 'E_DATA_API') throw error;
    return null;
  });
}

async function runningMigrationOf(ws: Workspace, customerId: string): Promise<MoveCheck['runningMigration']> {
  const running = await ws.plane.runningMigrationFor(customerId);
  if (!running) return null;
  const verdict = judgeOwner(running, Date.now(), localProbe);
  return { id: running.id, runBy: verdict.kind === 'in-progress' ? ownerName(verdict.owner, localProbe.host) : null };
}

export async function gatherMoveCheck(ws: Workspace, customerId: string, targetName: string, force: boolean): Promise<MoveCheck> {
  const mapped = await ws.plane.getCustomer(customerId);
  const source = mapped ? await ws.plane.getCell(mapped.cellId) : undefined;
  const target = await ws.plane.getCell(targetName);
  const liveness = target ? await cellLiveness(ws, [target.id]) : new Map<string, TargetLiveness>();
  return {
    customerId,
    mappedCell: mapped?.cellId,
    source,
    target,
    targetName,
    targetCustomers: target ? ((await ws.plane.customerCounts()).get(target.id) ?? 0) : 0,
    targetLiveness: target ? (liveness.get(target.id) ?? 'offline') : 'offline',
    sourceDataVersion: await dataVersion(ws, source),
    targetDataVersion: await dataVersion(ws, target),
    runningMigration: await runningMigrationOf(ws, customerId),
    force,
  };
}
