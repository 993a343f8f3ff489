// CLI checks on the workspace's processes, read from pid files (no supervisor needed to answer).
import { failure } from '../shared/errors.js';
import { livePid } from '../shared/procfs.js';
import { processPaths } from '../workspace/paths.js';
import type { Workspace } from '../workspace/workspace.js';
import { engineRuntime } from '../workspace/engines.js';

export function runningPid(ws: Workspace, name: string): number | null {
  return livePid(processPaths(ws.home, name).pidFile, ws.home, name);
}

export async function ensureCellNotRunning(ws: Workspace, cellId: string): Promise<void> {
  const engine = engineRuntime(ws);
  if (engine) {
    const where = await engine.running(cellId);
    if (where) throw failure(`cell ${cellId} is running (${where}): stop it first with "cellctl stop ${cellId}"`);
    return;
  }
  const pid = runningPid(ws, cellId);
  if (pid !== null) throw failure(`cell ${cellId} is running (pid ${pid}): stop it first with "cellctl stop ${cellId}"`);
}
