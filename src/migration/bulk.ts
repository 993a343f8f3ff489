// Bulk moves (drain, rebalance): the same protocol as a single move, in batches that share a source
// and a target. Stops cleanly between batches when asked, so a re-run carries on where it stopped.
import { ALL } from '../control/plane.js';
import type { Workspace } from '../workspace/workspace.js';
import { cellLiveness } from './checks.js';
import { moveBatch, newBatchId, resumeMigration } from './engine.js';
import { batchMoves, type CellLoad, type Move } from './plan.js';
import { failure } from '../shared/errors.js';

/** How many batches of a drain or rebalance move at once. */
const BATCHES_IN_FLIGHT = 2;

export interface BulkProgress {
  tick(done: number): void;
}

export interface BulkResult {
  moved: number;
  batches: number;
  seconds: number;
  interrupted: boolean;
  resumed: number;
}

export async function cellLoads(ws: Workspace): Promise<CellLoad[]> {
  const counts = await ws.plane.customerCounts();
  return (await ws.plane.listCells()).map((cell) => ({
    id: cell.id,
    template: cell.template,
    capacity: cell.capacity,
    customers: counts.get(cell.id) ?? 0,
    active: cell.status === 'active',
  }));
}

/** Finishes migrations an earlier, interrupted bulk run left running for these cells. */
export async function resumeLeftovers(ws: Workspace, cellIds: ReadonlySet<string>): Promise<number> {
  const leftovers = (await ws.plane.listMigrations({ state: 'running', limit: ALL })).filter((m) => cellIds.has(m.sourceCell));
  for (const migration of leftovers) await resumeMigration(ws, migration.id);
  return leftovers.length;
}

export async function runMoves(
  ws: Workspace,
  moves: Move[],
  batchSize: number,
  progress: BulkProgress,
  shouldStop: () => boolean,
): Promise<Omit<BulkResult, 'resumed'>> {
  const targets = [...new Set(moves.map((move) => move.to))];
  const liveness = await cellLiveness(ws, targets);
  const down = targets.filter((id) => liveness.get(id) === 'stopped' || liveness.get(id) === 'unhealthy');
  if (down.length > 0) throw failure(`target cell(s) ${down.join(', ')} are not running and healthy: "cellctl start ${down.join(' ')}" first`);
  const started = performance.now();
  const queue = batchMoves(moves, batchSize);
  const batchId = newBatchId();
  let moved = 0;
  let ran = 0;
  // Two batches in flight: while one waits on a cell (a page, a purge), the other keeps the other
  // cell, the router or the journal busy. Each batch is its own journaled move of distinct customers.
  const worker = async (): Promise<void> => {
    for (let batch = queue.shift(); batch && !shouldStop(); batch = queue.shift()) {
      await moveBatch(ws, batch, { keepSourceUntil: null, batch: batchId });
      moved += batch.length;
      ran += 1;
      progress.tick(moved);
    }
  };
  await Promise.all(Array.from({ length: BATCHES_IN_FLIGHT }, worker));
  return { moved, batches: ran, seconds: (performance.now() - started) / 1000, interrupted: moved < moves.length };
}
