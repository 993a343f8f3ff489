// The docker runtime's processes as the supervisor reports its own (supervisor/protocol.ts), so that
// start, status and health read both runtimes alike; the engine's view (container, image, health,
// restarts) comes along for status.
import type { ContainerView } from '../engine/docker.js';
import { ROUTER, type ProcessState, type ProcessStatus } from '../supervisor/protocol.js';
import type { DockerRuntime } from '../workspace/containers.js';
import type { EngineRow } from './model.js';

/** A container's state in the supervisor's words. */
function stateOf(view: ContainerView): ProcessState {
  switch (view.status) {
    case 'running':
    case 'paused':
      return 'running';
    case 'restarting':
      return 'backoff';
    case 'dead':
      return 'failed';
    default:
      // created, exited, removing: not running, and (unless-stopped) not to be restarted by the engine.
      return 'stopped';
  }
}

export interface EngineProcesses {
  processes: ProcessStatus[];
  engine: Map<string, EngineRow>;
}

/** The workspace's containers as processes (by name: a cell's id, or the router). */
export async function engineProcesses(runtime: DockerRuntime): Promise<EngineProcesses> {
  const containers = await runtime.containers();
  const processes: ProcessStatus[] = [];
  const engine = new Map<string, EngineRow>();
  for (const [name, view] of containers) {
    const state = stateOf(view);
    processes.push({
      name,
      kind: name === ROUTER ? 'router' : 'cell',
      state,
      pid: view.running ? view.pid : null,
      port: null, // status takes the port from the cell's row
      startedAt: view.running ? view.startedAt : null,
      restarts: view.restarts,
      healthy: view.health === 'healthy' ? true : view.health === 'unhealthy' ? false : null,
      lastExit: view.running || view.finishedAt === null ? null : `exit code ${view.exitCode} at ${view.finishedAt}`,
      lastError: view.error,
      nextRestartAt: null,
    });
    engine.set(name, { container: view.name, image: view.image, status: view.status, health: view.health });
  }
  return { processes, engine };
}
