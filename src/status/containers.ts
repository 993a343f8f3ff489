// The engine runtimes' processes (docker's containers, swarm's services) as the supervisor reports its own (supervisor/protocol.ts), so that
// start, status and health read both runtimes alike; the engine's view (container, image, health,
// restarts) comes along for status.
import type { ContainerView } from '../engine/docker.js';
import { ROUTER, type ProcessState, type ProcessStatus } from '../supervisor/protocol.js';
import type { DockerRuntime } from '../workspace/containers.js';
import type { EngineRuntime } from '../workspace/engines.js';
import { currentTask, NODE_LABEL, pinnedNode, SwarmRuntime } from '../workspace/swarm.js';
import type { ServiceView, TaskView } from '../engine/swarm.js';
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

/** How an engine process whose node is lost begins its last error ("its node B (10.0.0.3) is down"); health's fix follows from it. */
export const NODE_DOWN = 'its node';

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

/** A swarm task's state in the supervisor's words (a service of no replica is stopped). */
function taskState(service: ServiceView, task: TaskView | undefined): ProcessState {
  if (service.replicas === 0) return 'stopped';
  if (!task) return 'starting';
  if (task.state === 'running') return 'running';
  if (['failed', 'rejected', 'shutdown', 'complete', 'orphaned'].includes(task.state)) return 'backoff';
  return 'starting';
}

/**
 * The swarm workspace's services as processes: each cell's current task (its node the one it is
 * pinned to, so a cell whose node is lost says which), the routers' global service as one process
 * that runs while any of its tasks does. Failed and rejected tasks count as restarts.
 */
export async function swarmProcesses(runtime: SwarmRuntime): Promise<EngineProcesses> {
  const [services, nodes] = await Promise.all([runtime.services(), runtime.engine.nodes()]);
  const nodeOf = new Map(nodes.map((node) => [node.id, node]));
  const processes: ProcessStatus[] = [];
  const engine = new Map<string, EngineRow>();
  for (const [name, service] of services) {
    const task = name === ROUTER ? (service.tasks.find((candidate) => candidate.state === 'running') ?? currentTask(service)) : currentTask(service);
    // A task waiting for a lost node has no node yet: a cell's is the one it is pinned to.
    const node = nodeOf.get(pinnedNode(service) ?? task?.nodeId ?? '');
    const nodeName = node ? (node.labels[NODE_LABEL] ?? node.id) : null;
    const failures = service.tasks.filter((candidate) => ['failed', 'rejected'].includes(candidate.state));
    // A node without the image rejects every task of it: the engine tries on, but nothing will start.
    const noImage = failures[0]?.state === 'rejected' && /No such image/i.test(failures[0].error);
    const state = noImage && task?.state !== 'running' ? 'failed' : taskState(service, task);
    const nodeDown = node && node.state !== 'ready' ? `${NODE_DOWN} ${nodeName} (${node.address}) is ${node.state}` : null;
    const running = state === 'running' && task !== undefined;
    processes.push({
      name,
      kind: name === ROUTER ? 'router' : 'cell',
      state: nodeDown && state !== 'stopped' ? 'backoff' : state,
      pid: running ? task.pid : null,
      port: null, // status takes the port from the cell's row
      startedAt: running ? task.since : null,
      restarts: failures.length,
      healthy: null,
      lastExit: failures[0] ? `${failures[0].state} at ${failures[0].since}` : null,
      // The replacement of a failed task has no error yet: the failed one's says why.
      lastError: nodeDown ?? (task?.error || (state !== 'running' ? failures[0]?.error : undefined) || null),
      nextRestartAt: null,
    });
    const tasksRunning = service.tasks.filter((candidate) => candidate.state === 'running').length;
    engine.set(name, {
      container: name === ROUTER ? `${service.name} (${tasksRunning} running)` : `${service.name}${node ? ` on ${nodeName} ${node.address}` : ''}`,
      image: service.image,
      status: task ? task.state : 'no task',
      health: nodeDown ? `node ${node!.state}` : null,
    });
  }
  return { processes, engine };
}

/** An engine runtime's processes, whichever engine. */
export function engineProcessesOf(runtime: EngineRuntime): Promise<EngineProcesses> {
  return runtime instanceof SwarmRuntime ? swarmProcesses(runtime) : engineProcesses(runtime);
}
