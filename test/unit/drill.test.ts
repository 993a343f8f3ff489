import { describe, expect, it } from 'vitest';
import { drillSpacingMs } from '../../src/drill/pace.js';
import { summarizeDrill } from '../../src/drill/summary.js';

const mapping = new Map([
  ['a1', 'a'],
  ['a2', 'a'],
  ['b1', 'b'],
  ['b2', 'b'],
  ['b3', 'b'],
]);

describe('drill summary', () => {
  it('measures the blast radius, containment and recovery', () => {
    const samples = [
      { customerId: 'a1', at: 100, status: 200 },
      { customerId: 'a1', at: 1100, status: 503 },
      { customerId: 'b1', at: 1150, status: 200 },
      { customerId: 'a2', at: 1200, status: 0 },
      { customerId: 'b2', at: 1300, status: 200 },
      { customerId: 'a1', at: 1600, status: 200 },
      { customerId: 'a2', at: 1700, status: 200 },
    ];
    const summary = summarizeDrill(samples, mapping, 'a', 1000);
    expect(summary).toMatchObject({
      victim: 'a',
      expectedBlastRadius: 0.4,
      customerShareFailed: 0.4,
      failuresOutsideVictim: 0,
      contained: true,
      recoveryMs: 600,
    });
    expect(summary.requestShareFailed).toBeCloseTo(2 / 7);
    expect(summary.cells.find((cell) => cell.cell === 'a')).toMatchObject({ requests: 5, failed: 2, customersWithFailures: 2 });
  });

  it('flags failures outside the killed cell and a cell that never recovered', () => {
    const summary = summarizeDrill(
      [
        { customerId: 'a1', at: 1100, status: 503 },
        { customerId: 'b1', at: 1200, status: 502 },
      ],
      mapping,
      'a',
      1000,
    );
    expect(summary).toMatchObject({ contained: false, failuresOutsideVictim: 1, recoveryMs: null });
  });
});

describe('drill pace', () => {
  it("keeps each customer within the router's rate limit over the whole run", () => {
    const rateLimit = { requests: 100, windowSeconds: 60 };
    for (const [customers, totalMs] of [
      [1, 6_000],
      [20, 6_000],
      [30, 4_000],
      [500, 60_000],
    ] as const) {
      const spacingMs = drillSpacingMs({ customers, workers: 4, totalMs, rateLimit });
      // An even rate per customer: what falls in any window (or in the whole run, if shorter) stays within the limit.
      const perCustomerPerSecond = (1000 / spacingMs) * (4 / customers);
      expect(perCustomerPerSecond * Math.min(totalMs / 1000, rateLimit.windowSeconds), `${customers} customers`).toBeLessThanOrEqual(rateLimit.requests);
    }
  });

  it('is light load at most, however high the limit', () => {
    expect(drillSpacingMs({ customers: 20, workers: 4, totalMs: 6_000, rateLimit: { requests: 1e9, windowSeconds: 1 } })).toBe(5);
  });

  it('does not count a 429 as recovery', () => {
    const summary = summarizeDrill(
      [
        { customerId: 'a1', at: 1100, status: 503 },
        { customerId: 'a1', at: 1200, status: 429 },
        { customerId: 'a2', at: 1400, status: 200 },
      ],
      mapping,
      'a',
      1000,
    );
    expect(summary).toMatchObject({ recoveryMs: 400, rateLimited: 1 });
  });
});
