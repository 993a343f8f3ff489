import { describe, expect, it } from 'vitest';
import { countsTowardHung, isHung, planRestart } from '../../src/supervisor/backoff.js';

const policy = { backoffInitialMs: 100, backoffMaxMs: 1000, stableAfterMs: 5000, crashLoopLimit: 4, crashLoopWindowMs: 60_000 };

describe('restart policy', () => {
  it('doubles the delay on each fast crash, up to the cap', () => {
    const delays: number[] = [];
    let consecutive = 0;
    for (let i = 0; i < 6; i += 1) {
      const decision = planRestart({ startedAt: 0, endedAt: 10 }, consecutive, [], policy);
      if (decision.action !== 'restart') throw new Error('gave up');
      delays.push(decision.delayMs);
      consecutive = decision.consecutive;
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('resets the delay after a stable run', () => {
    expect(planRestart({ startedAt: 0, endedAt: 6000 }, 5, [1, 2, 3], policy)).toEqual({ action: 'restart', delayMs: 100, consecutive: 1 });
  });

  it('gives up after too many fast crashes in the window', () => {
    expect(planRestart({ startedAt: 70_000, endedAt: 70_010 }, 3, [69_000, 69_500, 69_900], policy)).toEqual({ action: 'give-up', crashesInWindow: 4 });
  });

  it('forgets crashes older than the window', () => {
    expect(planRestart({ startedAt: 100_000, endedAt: 100_010 }, 3, [1_000, 2_000, 3_000], policy).action).toBe('restart');
  });
});

describe('hung processes', () => {
  it.each([
    { failingSince: null, now: 100_000, hung: false, why: 'health passes' },
    { failingSince: 1_000, now: 30_999, hung: false, why: 'failing, not long enough' },
    { failingSince: 1_000, now: 31_000, hung: true, why: 'failing for unhealthyRestartMs' },
  ])('$why: hung = $hung', ({ failingSince, now, hung }) => {
    expect(isHung(failingSince, now, { unhealthyRestartMs: 30_000 })).toBe(hung);
  });
});

describe('which failed health answers count toward hung', () => {
  const refused = { name: 'database_writes', ok: false, detail: 'unhealthy: database refuses writes (SQLITE_BUSY: database is locked)' };
  it.each([
    ['a passing answer', { healthy: true, status: 200, checks: [] }, false],
    ['no answer at all', { healthy: false, status: null, checks: [] }, true],
    ['a 503 with no checks', { healthy: false, status: 503, checks: [] }, true],
    ['a 503 whose only failing check is the write probe', { healthy: false, status: 503, checks: [{ name: 'database', ok: true }, refused] }, false],
    ['a 503 with the write probe and another failing check', { healthy: false, status: 503, checks: [refused, { name: 'worker', ok: false }] }, true],
  ])('%s', (_, health, counts) => {
    expect(countsTowardHung(health)).toBe(counts);
  });
});
