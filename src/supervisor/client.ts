// The CLI's side of the supervisor: find the running one (or start it, detached), call its API, and
// stop the workspace's processes — through it, or by their pid files when it is gone.
import axios, { type AxiosInstance } from 'axios';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { failure } from '../shared/errors.js';
import { processPaths, workspacePaths } from '../workspace/paths.js';
import { readAdminToken } from '../workspace/secrets.js';
import { openLogFd, tailLines } from './logfile.js';
import { isOurProcess, livePid, signalGroup } from '../shared/procfs.js';
import type { SupervisorEndpoint, SupervisorStatus } from './protocol.js';
import { processesFromPidFiles, stopWorkspaceProcesses, waitUntil, workspaceChildren, type WorkspaceProcess } from './stop.js';

const SUPERVISOR_MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.js');

export class SupervisorClient {
  private readonly http: AxiosInstance;

  constructor(
    readonly endpoint: SupervisorEndpoint,
    token: string,
  ) {
    this.http = axios.create({
      baseURL: `http://127.0.0.1:${endpoint.port}`,
      headers: { authorization: `Bearer ${token}` },
      timeout: 60_000,
    });
  }

  async status(): Promise<SupervisorStatus> {
    return (await this.http.get<SupervisorStatus>('/status', { timeout: 5_000 })).data;
  }

  async start(names: string[]): Promise<{ started: string[]; alreadyRunning: string[] }> {
    return (await this.http.post('/start', { names })).data;
  }

  async stop(names: string[], timeoutMs?: number): Promise<string[]> {
    return (await this.http.post<{ stopped: string[] }>('/stop', { names, timeoutMs })).data.stopped;
  }

  async shutdown(): Promise<void> {
    // Short: a supervisor that does not answer (hung, stopped) is stopped by its pid instead.
    await this.http.post('/shutdown', undefined, { timeout: 5_000 });
  }
}

/** The running supervisor of this workspace, or null. Stale state files are removed. */
export function findSupervisor(home: string): SupervisorClient | null {
  const paths = workspacePaths(home);
  const pid = livePid(processPaths(home, 'supervisor').pidFile, home, 'supervisor');
  if (pid === null) {
    fs.rmSync(paths.supervisorState, { force: true });
    return null;
  }
  let endpoint: SupervisorEndpoint;
  try {
    endpoint = JSON.parse(fs.readFileSync(paths.supervisorState, 'utf8')) as SupervisorEndpoint;
  } catch {
    return null; // still starting: it writes supervisor.json once it listens
  }
  if (endpoint.pid !== pid) return null;
  return new SupervisorClient(endpoint, readAdminToken(home));
}

/** The running supervisor, started (detached) if there is none. */
export async function ensureSupervisor(home: string, timeoutMs = 15_000): Promise<SupervisorClient> {
  const existing = findSupervisor(home);
  if (existing) return existing;
  const files = processPaths(home, 'supervisor');
  fs.mkdirSync(files.logsDir, { recursive: true });
  const logFd = openLogFd(files.logFile);
  const child = spawn(process.execPath, [SUPERVISOR_MAIN], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: { ...process.env, CELLCTL_HOME: home, CELLCTL_PROC: 'supervisor' },
  });
  fs.closeSync(logFd);
  child.unref();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const client = findSupervisor(home);
    if (client) return client;
    if (child.pid !== undefined && !isOurProcess(child.pid, home, 'supervisor') && child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const client = findSupervisor(home);
  if (client) return client;
  throw failure(`the supervisor did not start; last lines of ${files.logFile}:\n${tailLines(files.logFile, 15).join('\n')}`);
}

/**
 * Stops everything of the workspace at `home`, using only its pid files and the supervisor's API (so
 * a damaged workspace can be stopped too). Returns what was running.
 */
export async function stopEverything(home: string, timeoutMs: number): Promise<WorkspaceProcess[]> {
  const running = processesFromPidFiles(home);
  const supervisor = running.find((proc) => proc.name === 'supervisor');
  // Its children count even if their pid files are gone or damaged.
  const children = supervisor ? workspaceChildren(home, supervisor.pid).filter((child) => !running.some((proc) => proc.pid === child.pid)) : [];
  if (supervisor) {
    // Asked first: it stops the cells before the router, and records it.
    const client = findSupervisor(home);
    const asked = client
      ? await client.shutdown().then(
          () => true,
          () => false,
        )
      : false;
    if (!asked) signalGroup(supervisor.pid, 'SIGTERM');
    await waitUntil(() => !isOurProcess(supervisor.pid, home, 'supervisor'), timeoutMs);
  }
  // Whatever is still alive now (left by a killed supervisor, or a supervisor that hung) is stopped by pid.
  const leftovers = [...processesFromPidFiles(home), ...children.filter((child) => isOurProcess(child.pid, home, child.name))];
  await stopWorkspaceProcesses(home, leftovers, timeoutMs);
  return [...running, ...children];
}

/** Stops the named processes: through the supervisor, or by their pid files when none runs. */
export async function stopNamed(home: string, names: string[], timeoutMs: number): Promise<string[]> {
  const supervisor = findSupervisor(home);
  if (supervisor) return supervisor.stop(names, timeoutMs);
  const running = processesFromPidFiles(home).filter((proc) => names.includes(proc.name));
  await stopWorkspaceProcesses(home, running, timeoutMs);
  return running.map((proc) => proc.name);
}
