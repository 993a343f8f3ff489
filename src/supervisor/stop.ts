// The one way cellctl stops a process: TERM to its process group, a wait, then KILL to the group.
// The supervisor stops its processes with it; the CLI stops what a dead (or unreachable) supervisor
// left behind with it, found by pid files.
import fs from 'node:fs';
import { delay } from '../shared/time.js';
import { dataAgentName, processPaths } from '../workspace/paths.js';
import { childrenOf, isOurProcess, livePid, signalGroup, workspaceProcessName } from '../shared/procfs.js';
import { ROUTER } from './protocol.js';

/** How long to wait for a process to vanish after KILL, which it cannot ignore. */
const AFTER_KILL_MS = 5_000;

export type StopOutcome = 'exited' | 'killed';

/**
 * Stops the group led by `pid`; `isGone` says when the process has ended. CONT follows TERM so a
 * stopped (SIGSTOP) process wakes to see it. KILL goes to the group in any case: children the
 * process started must not outlive it. 'killed' means it did not end within `timeoutMs` of TERM.
 */
export async function stopGroup(pid: number, isGone: () => boolean, timeoutMs: number): Promise<StopOutcome> {
  signalGroup(pid, 'SIGTERM');
  signalGroup(pid, 'SIGCONT');
  const inTime = await waitUntil(isGone, timeoutMs);
  signalGroup(pid, 'SIGKILL');
  await waitUntil(isGone, AFTER_KILL_MS);
  return inTime ? 'exited' : 'killed';
}

/** Polls `condition` until it holds (true) or `timeoutMs` passes (false). */
export async function waitUntil(condition: () => boolean, timeoutMs: number, intervalMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await delay(intervalMs);
  }
  return true;
}

export interface WorkspaceProcess {
  name: string;
  pid: number;
}

/**
 * The workspace's live processes, read from pid files alone (no settings, no control.db, so this
 * works in a damaged workspace): the supervisor, the router and every folder holding a `pid` file.
 * A pid counts only when its process carries this workspace and name in its environment.
 */
export function processesFromPidFiles(home: string): WorkspaceProcess[] {
  const cells = safeReaddir(home)
    .filter((entry) => entry.isDirectory() && entry.name !== ROUTER && entry.name !== 'supervisor')
    .map((entry) => entry.name)
    .sort();
  // A cell's folder may hold its pid file and its data companion's (data.pid).
  const names = cells.flatMap((cell) => [cell, dataAgentName(cell)].filter((name) => fs.existsSync(processPaths(home, name).pidFile)));
  return ['supervisor', ROUTER, ...names].flatMap((name) => {
    const pid = livePid(processPaths(home, name).pidFile, home, name);
    return pid === null ? [] : [{ name, pid }];
  });
}

/** The processes of this workspace that `parent` (the supervisor) started and still has. */
export function workspaceChildren(home: string, parent: number): WorkspaceProcess[] {
  return childrenOf(parent).flatMap((pid) => {
    const name = workspaceProcessName(pid, home);
    return name === null ? [] : [{ name, pid }];
  });
}

/** Stops each process (its group) with `stopGroup`, all at once. */
export async function stopWorkspaceProcesses(home: string, processes: WorkspaceProcess[], timeoutMs: number): Promise<void> {
  await Promise.all(processes.map(({ name, pid }) => stopGroup(pid, () => !isOurProcess(pid, home, name), timeoutMs)));
}

function safeReaddir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}
