// CLI checks on the workspace's processes, read from pid files (no supervisor needed to answer).
import { failure } from '../shared/errors.js';
import { livePid } from '../shared/procfs.js';
import { processPaths } from '../workspace/paths.js';
import type { Workspace } from '../workspace/workspace.js';
import { DockerRuntime } from '../workspace/containers.js';

export function runningPid(ws: Workspace, name: string): number | null {
  return livePid(processPaths(ws.home, name).pidFile, ws.home, name);
}

export async function ensureCellNotRunning(ws: Workspace, cellId: string): Promise<void> {
  if (ws.settings.runtime === 'docker') {
    const runtime = new DockerRuntime(ws.home, ws.settings);
    const container = (await runtime.containers()).get(cellId);
    if (container?.running) throw failure(`cell ${cellId} is running (container ${container.name}): stop it first with "cellctl stop ${cellId}"`);
    return;
  }
  const pid = runningPid(ws, cellId);
  if (pid !== null) throw failure(`cell ${cellId} is running (pid ${pid}): stop it first with "cellctl stop ${cellId}"`);
}
