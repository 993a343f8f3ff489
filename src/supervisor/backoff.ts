// The restart policy, as pure functions: after a crash, restart after an exponentially growing
// delay, reset once a process has stayed up for a stable period, and give up (crash loop) after too
// many crashes in a window; a process failing its health check for too long counts as hung, unless
// all that fails is its database refusing writes (a lock another writer holds: a restart frees nothing).
import { type HealthCheck, onlyWritesRefused } from '../shared/health.js';
import type { SupervisorSettings } from '../workspace/settings.js';

export interface CrashRecord {
  /** When the crashed run started and ended (ms since epoch). */
  startedAt: number;
  endedAt: number;
}

export type RestartDecision = { action: 'restart'; delayMs: number; consecutive: number } | { action: 'give-up'; crashesInWindow: number };

export type BackoffPolicy = Pick<SupervisorSettings, 'backoffInitialMs' | 'backoffMaxMs' | 'stableAfterMs' | 'crashLoopLimit' | 'crashLoopWindowMs'>;

/**
 * `previousConsecutive` is the count of fast crashes before this one; `recentCrashEnds` the end times
 * of earlier crashes (any order). Returns what to do about `crash`.
 */
export function planRestart(crash: CrashRecord, previousConsecutive: number, recentCrashEnds: readonly number[], policy: BackoffPolicy): RestartDecision {
  const ranStably = crash.endedAt - crash.startedAt >= policy.stableAfterMs;
  const consecutive = ranStably ? 1 : previousConsecutive + 1;
  const windowStart = crash.endedAt - policy.crashLoopWindowMs;
  const crashesInWindow = recentCrashEnds.filter((at) => at >= windowStart).length + 1;
  if (!ranStably && crashesInWindow >= policy.crashLoopLimit) return { action: 'give-up', crashesInWindow };
  const delayMs = Math.min(policy.backoffInitialMs * 2 ** (consecutive - 1), policy.backoffMaxMs);
  return { action: 'restart', delayMs, consecutive };
}

/**
 * A process alive but failing its health check since `failingSince` (null while it passes) is hung
 * at `now` once that has lasted `unhealthyRestartMs`: it is to be killed and restarted.
 */
export function isHung(failingSince: number | null, now: number, policy: Pick<SupervisorSettings, 'unhealthyRestartMs'>): boolean {
  return failingSince !== null && now - failingSince >= policy.unhealthyRestartMs;
}

/**
 * Whether a health answer counts toward hung (and so, in time, a restart): any failure, except an
 * answer whose only failing check is the database refusing writes. That cell is unhealthy, never
 * crashed: another writer holds the lock, and killing the cell would not free it (and would drop
 * the customers it still serves reads to, in the middle of a move perhaps).
 */
export function countsTowardHung(health: { healthy: boolean; status: number | null; checks: readonly HealthCheck[] }): boolean {
  if (health.healthy) return false;
  return !(health.status !== null && onlyWritesRefused(health.checks));
}
