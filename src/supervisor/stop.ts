// The one way cellctl stops a process: TERM to its process group, a wait, then KILL to the group.
// The supervisor stops its processes with it, and the CLI stops leftovers of a dead supervisor with it.
import { delay } from '../shared/time.js';
import { signalGroup } from './procfs.js';

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
