import { describe, expect, it } from 'vitest';
import { auditPlacement } from '../../src/migration/audit.js';
import { batchMoves, type MoveCheck, moveRefusal, planDrain, planRebalance } from '../../src/migration/plan.js';
import { cellRecord } from '../helpers.js';

const cell = cellRecord;

const okCheck: MoveCheck = {
  customerId: 'acme',
  mappedCell: 'a',
  source: cell('a'),
  target: cell('b'),
  targetName: 'b',
  targetCustomers: 0,
  targetLiveness: 'running',
  sourceDataVersion: 1,
  targetDataVersion: 1,
  runningMigration: null,
  force: false,
};

describe('move checks', () => {
  it('allows a sound move', () => expect(moveRefusal(okCheck)).toBeNull());
  it.each([
    ['an unmapped customer', { mappedCell: undefined, source: undefined }, /not mapped/],
    ['an unknown target', { target: undefined, targetName: 'zz' }, /no cell named "zz"/],
    ['the same cell', { target: cell('a'), targetName: 'a' }, /already in a/],
    ['an interrupted migration', { runningMigration: { id: 4, runBy: null } }, /interrupted migration 4: finish it with "cellctl migrate resume 4"/],
    ['a migration in progress', { runningMigration: { id: 4, runBy: 'pid 77' } }, /being moved by migration 4 \(run by pid 77\): wait/],
    ['a stopped target', { targetLiveness: 'stopped' as const }, /stopped/],
    ['an unhealthy target', { targetLiveness: 'unhealthy' as const }, /health/],
    ['a draining target', { target: cell('b', { status: 'draining' }) }, /draining/],
    ['another template', { target: cell('b', { template: 'basic' }) }, /same template/],
    ['another schema version', { targetDataVersion: 2 }, /schema versions differ/],
    ['a full target', { targetCustomers: 10 }, /at capacity/],
  ])('refuses %s', (_what, change, message) => expect(moveRefusal({ ...okCheck, ...change })).toMatch(message));
  it('lets --force past capacity only', () => {
    expect(moveRefusal({ ...okCheck, targetCustomers: 10, force: true })).toBeNull();
    expect(moveRefusal({ ...okCheck, targetLiveness: 'stopped', force: true })).toMatch(/stopped/);
  });
});

const load = (id: string, customers: number, capacity = 10, extra: Record<string, unknown> = {}) => ({
  id,
  template: 'shop',
  capacity,
  customers,
  active: true,
  ...extra,
});

describe('drain plan', () => {
  it('spreads customers over the least-loaded cells of the same template, within capacity', () => {
    const moves = planDrain(load('a', 4), ['1', '2', '3', '4'], [load('a', 4), load('b', 8), load('c', 2), load('d', 0, 10, { template: 'other' })]);
    const to = moves.map((move) => move.to);
    expect(to).toEqual(['c', 'c', 'c', 'c']); // c stays below b's 8/10 throughout
    expect(to).not.toContain('d');
    expect(moves.every((move) => move.from === 'a')).toBe(true);
  });
  it('refuses when the other cells cannot hold the customers', () => {
    expect(() => planDrain(load('a', 3), ['1', '2', '3'], [load('a', 3), load('b', 9)])).toThrow(/room for 1/);
  });
});

describe('rebalance plan', () => {
  it('evens out load and stops when balanced', () => {
    const customers = new Map([
      ['a', Array.from({ length: 8 }, (_, i) => `a${i}`)],
      ['b', []],
    ]);
    const moves = planRebalance([load('a', 8), load('b', 0)], customers, 100);
    expect(moves).toHaveLength(4);
    expect(
      planRebalance(
        [load('a', 4), load('b', 4)],
        new Map([
          ['a', ['1', '2', '3', '4']],
          ['b', ['5', '6', '7', '8']],
        ]),
        100,
      ),
    ).toHaveLength(0);
  });
  it('respects --max-moves', () => {
    const customers = new Map([['a', Array.from({ length: 8 }, (_, i) => `a${i}`)]]);
    expect(planRebalance([load('a', 8), load('b', 0)], customers, 2)).toHaveLength(2);
  });
});

describe('batches', () => {
  it('groups by source and target and caps the size', () => {
    const moves = [1, 2, 3, 4, 5].map((n) => ({ customerId: String(n), from: 'a', to: n % 2 ? 'b' : 'c' }));
    expect(batchMoves(moves, 2).map((batch) => batch.map((move) => move.customerId))).toEqual([['1', '3'], ['5'], ['2', '4']]);
  });
});

describe('audit', () => {
  const base = { excused: new Set<string>(), keptSources: new Map<string, string>() };
  it('finds misplaced, duplicated, missing and unmapped customers', () => {
    const findings = auditPlacement({
      ...base,
      mapping: new Map([
        ['ok', 'a'],
        ['moved', 'b'],
        ['twice', 'a'],
        ['ghost', 'a'],
      ]),
      rowsByCell: new Map([
        ['a', new Set(['ok', 'moved', 'twice', 'stray'])],
        ['b', new Set(['twice'])],
      ]),
    });
    expect(findings.map((f) => [f.kind, f.customerId])).toEqual([
      ['missing', 'ghost'],
      ['misplaced', 'moved'],
      ['unmapped', 'stray'],
      ['duplicated', 'twice'],
    ]);
  });
  it('excuses customers in flight and kept source copies', () => {
    expect(
      auditPlacement({
        mapping: new Map([
          ['moving', 'a'],
          ['kept', 'b'],
        ]),
        rowsByCell: new Map([
          ['a', new Set(['moving', 'kept'])],
          ['b', new Set(['moving', 'kept'])],
        ]),
        excused: new Set(['moving']),
        keptSources: new Map([['kept', 'a']]),
      }),
    ).toEqual([]);
  });
  it('with a cell it could not read, judges no customer mapped there and calls none missing (its rows may be there)', () => {
    const findings = auditPlacement({
      ...base,
      mapping: new Map([
        ['in-dark', 'dark'],
        ['ghost', 'a'],
        ['moved', 'b'],
        ['twice', 'a'],
      ]),
      rowsByCell: new Map([
        ['a', new Set(['moved', 'twice', 'stray'])],
        ['b', new Set(['twice', 'in-dark'])],
      ]),
      unreadableCells: new Set(['dark']),
    });
    expect(findings.map((f) => [f.kind, f.customerId])).toEqual([
      ['misplaced', 'moved'],
      ['unmapped', 'stray'],
      ['duplicated', 'twice'],
    ]);
  });
});
