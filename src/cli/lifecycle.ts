// Starting and stopping the system for the start, stop, restart and up commands: ask the supervisor,
// then wait until every named process is healthy (or gone), with a spinner on a terminal.
import { notifyRouter, RouterAdmin } from '../router/client.js';
import { failure, usageError } from '../shared/errors.js';
import { delay } from '../shared/time.js';
import { ensureSupervisor, stopEverything, stopNamed } from '../supervisor/client.js';
import { tailLines } from '../supervisor/logfile.js';
import { type ProcessStatus, ROUTER } from '../supervisor/protocol.js';
import { processPaths } from '../workspace/paths.js';
import type { Workspace } from '../workspace/workspace.js';
import { engineRuntime } from '../workspace/engines.js';
import { SwarmRuntime } from '../workspace/swarm.js';
import { engineProcessesOf } from '../status/containers.js';
import { exposureWarning } from '../workspace/settings.js';
import { formatDuration, sayWarning, startProgress } from './output.js';

/**
 * The processes named on the command line (checked), or, with no names, the router and every cell.
 * Named cells bring the router along (customers reach them through it); naming only the router
 * never touches a cell.
 */
export async function processNames(ws: Workspace, names: string[]): Promise<string[]> {
  // A registered cell runs elsewhere: this workspace never starts or stops it.
  if (names.length === 0) return [ROUTER, ...(await ws.plane.listCells()).filter((cell) => cell.managed).map((cell) => cell.id)];
  const cells: string[] = [];
  for (const name of names) if ((await checkLocalProcess(ws, name)) !== ROUTER) cells.push(name);
  return [ROUTER, ...new Set(cells)];
}

/** A process this workspace runs: a registered cell is refused, saying where it runs. */
export async function checkLocalProcess(ws: Workspace, name: string): Promise<string> {
  const cell = await ws.plane.getCell(await checkProcessName(ws, name));
  if (cell && !cell.managed) throw usageError(`cell ${name} is registered at ${cell.url} and runs elsewhere: start or stop it where it runs`);
  return name;
}

/** A process name: "router" or a cell; an unknown one is refused naming both kinds. */
export async function checkProcessName(ws: Workspace, name: string): Promise<string> {
  if (name === ROUTER || (await ws.plane.getCell(name))) return name;
  const known = [ROUTER, ...(await ws.plane.listCells()).map((cell) => cell.id)];
  throw failure(`no process named "${name}" (processes: ${known.join(', ')}); "cellctl status" shows them`);
}

export interface StartResult {
  started: string[];
  alreadyRunning: string[];
  elapsedMs: number;
}

/** Who starts the processes and says how they are: the supervisor, or the Docker Engine. */
interface Runner {
  start(names: string[]): Promise<{ started: string[]; alreadyRunning: string[] }>;
  processes(): Promise<ProcessStatus[]>;
}

async function runnerOf(ws: Workspace): Promise<Runner> {
  const engine = engineRuntime(ws);
  // A swarm's new routers read the settings from the control plane: start publishes this folder's.
  if (engine)
    return {
      start: (names) => (engine instanceof SwarmRuntime ? engine.start(names, ws.plane) : engine.start(names)),
      processes: async () => (await engineProcessesOf(engine)).processes,
    };
  const supervisor = await ensureSupervisor(ws.home);
  return { start: (names) => supervisor.start(names), processes: async () => (await supervisor.status()).processes };
}

export async function startProcesses(ws: Workspace, names: string[], timeoutMs: number, quiet = false): Promise<StartResult> {
  const begun = Date.now();
  const progress = await startProgress(`starting ${names.join(', ')}`, quiet);
  try {
    const runner = await runnerOf(ws);
    const { started, alreadyRunning } = await runner.start(names);
    const deadline = begun + timeoutMs;
    let last: ProcessStatus[] = [];
    let placeable = false;
    while (Date.now() < deadline) {
      last = (await runner.processes()).filter((proc) => names.includes(proc.name));
      const failed = last.find((proc) => proc.state === 'failed' || proc.state === 'crashed');
      if (failed) throw startFailure(ws, failed, `${failed.name} ${failed.state === 'failed' ? 'could not start' : 'keeps crashing'}`);
      const waiting = last.filter((proc) => proc.state !== 'running');
      if (waiting.length === 0 && !placeable) placeable = await tellRouter(ws);
      if (waiting.length === 0 && !(await routerSeesCells(ws, names))) {
        progress.update('waiting for the router to see every cell healthy');
        await delay(50);
        continue;
      }
      if (waiting.length === 0) {
        progress.succeed(`${names.length} process(es) running and healthy (${formatDuration(Date.now() - begun)})`);
        const exposed = exposureWarning(ws.settings);
        if (exposed) sayWarning(exposed);
        return { started, alreadyRunning, elapsedMs: Date.now() - begun };
      }
      progress.update(`waiting for ${waiting.map((proc) => `${proc.name} (${proc.state})`).join(', ')}`);
      await delay(50);
    }
    const slow = last.find((proc) => proc.state !== 'running') ?? last[0]!;
    throw startFailure(ws, slow, `${slow.name} was not healthy within ${formatDuration(timeoutMs)} (state ${slow.state})`);
  } catch (error) {
    progress.fail('start failed');
    throw error;
  }
}

/** The router reads the mapping now (new cells among it) rather than at its next poll. */
async function tellRouter(ws: Workspace): Promise<boolean> {
  return notifyRouter(ws.home, ws.settings).catch(() => false);
}

/**
 * The router is the customers' way in: started cells count as up once it routes to them and places
 * new customers in them (the router records a cell's first health itself: first_healthy_at has that one writer).
 */
async function routerSeesCells(ws: Workspace, names: string[]): Promise<boolean> {
  const cells = names.filter((name) => name !== ROUTER);
  if (cells.length === 0) return true;
  const stats = await RouterAdmin.forWorkspace(ws.home, ws.settings, 2_000)
    .stats()
    .catch(() => null);
  return stats !== null && cells.every((cell) => stats.cells[cell]?.healthy === true && stats.cells[cell]?.placing !== false);
}

function startFailure(ws: Workspace, proc: ProcessStatus, headline: string) {
  if (ws.settings.runtime !== 'local') {
    return failure(
      `${headline}${proc.lastError ? `: ${proc.lastError}` : ''}\nsee "cellctl logs ${proc.name}" (its output on the engine) and "cellctl status"`,
    );
  }
  const log = processPaths(ws.home, proc.name).logFile;
  const tail = tailLines(log, 12);
  return failure(
    `${headline}${proc.lastError ? `: ${proc.lastError}` : ''}\nlast lines of ${log}:\n${tail.length ? tail.map((line) => `  ${line}`).join('\n') : '  (empty)'}\nsee "cellctl logs ${proc.name}" and "cellctl events --subject ${proc.name}"`,
  );
}

/** Stops named processes, or (names = null) everything including the supervisor. */
export async function stopProcesses(ws: Workspace, names: string[] | null, timeoutMs: number, quiet = false): Promise<string[]> {
  const runtime = engineRuntime(ws);
  if (runtime) {
    // Named ones are reported by the caller, as on local.
    if (names !== null) return runtime.stop(names, timeoutMs);
    const progress = await startProgress('stopping everything', quiet);
    const stopped = await runtime.stop(null, timeoutMs);
    progress.succeed(stopped.length > 0 ? `stopped ${stopped.join(', ')}` : 'nothing was running');
    return stopped;
  }
  if (names !== null) return stopNamed(ws.home, names, timeoutMs);
  const progress = await startProgress('stopping everything', quiet);
  const stopped = await stopEverything(ws.home, timeoutMs);
  progress.succeed(stopped.length > 0 ? 'stopped' : 'nothing was running');
  return [ROUTER, ...(await ws.plane.listCells()).map((cell) => cell.id)];
}
