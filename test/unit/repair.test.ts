// The judgements that keep destructive operations from deleting the only copy (only-copy.ts), and
// the repair plan for a control plane behind its cells (repair.ts): pure functions, table-driven.
import { describe, expect, it } from 'vitest';
import { onlyCopyRisk, recordedCopy } from '../../src/migration/only-copy.js';
import { planRepair, type RepairInput } from '../../src/migration/repair.js';

const tables = (orders: number, checksum = orders * 7) => [
  { table: 'customers', rows: orders > 0 ? 1 : 0, checksum: orders > 0 ? 1 : 0 },
  { table: 'orders', rows: orders, checksum },
];
const recorded = { customers: { rows: 1, checksum: 1 }, orders: { rows: 3, checksum: 21 } };

describe('onlyCopyRisk', () => {
  it('lets a delete go only when the other cell is known to hold the rows', () => {
    const ask = (
      kind: 'rollback' | 'after-switch' | 'stale-copy',
      drop: number,
      keep: number,
      copy: typeof recorded | null,
      dropSum?: number,
      keepSum?: number,
    ) => onlyCopyRisk({ drop: { cell: 'd', tables: tables(drop, dropSum) }, keep: { cell: 'k', tables: tables(keep, keepSum) }, recorded: copy, kind });
    // Nothing to delete: always fine.
    expect(ask('stale-copy', 0, 0, null)).toBeNull();
    // The keeper holds nothing while the dropped cell does: refused, whatever the kind.
    for (const kind of ['rollback', 'after-switch', 'stale-copy'] as const)
      expect(ask(kind, 3, 0, recorded)).toMatch(/k, which keeps the customer, holds none/);
    // A rollback: the source (keeper) must still be exactly what the journal recorded at the copy.
    expect(ask('rollback', 3, 3, recorded)).toBeNull();
    expect(ask('rollback', 3, 2, recorded, undefined, 14)).toMatch(/in k, orders has 2 row/);
    // Without a record, a partial copy is a subset of the source.
    expect(ask('rollback', 2, 3, null)).toBeNull();
    expect(ask('rollback', 3, 2, null)).toMatch(/fewer than the 3/);
    // After the switch: the source (dropped) must be what was verified into the target; the target may have changed since.
    expect(ask('after-switch', 3, 5, recorded)).toBeNull();
    expect(ask('after-switch', 3, 5, recorded, 22)).toMatch(/in d, orders has 3 row\(s\) \(checksum 22\)/);
    expect(ask('after-switch', 3, 1, null)).toBeNull();
    // A stale copy: the keeper need only hold rows.
    expect(ask('stale-copy', 5, 1, null)).toBeNull();
  });

  it('reads the copy the journal recorded at the copied and verified steps', () => {
    expect(recordedCopy({})).toBeNull();
    expect(recordedCopy({ rows: { orders: 3 } })).toBeNull();
    expect(recordedCopy({ fence: 'router', rows: { orders: 3, customers: 1 }, checksums: { orders: 21, customers: 1 } })).toEqual({
      orders: { rows: 3, checksum: 21 },
      customers: { rows: 1, checksum: 1 },
    });
  });
});

describe('planRepair', () => {
  const cell = (id: string, fencing: number, holds: string[], refuses: string[] = []) => ({ id, fencing, holds: new Set(holds), refuses: new Set(refuses) });
  const base = (over: Partial<RepairInput>): RepairInput => ({ issued: 10, cells: [], mapping: new Map(), running: [], ...over });

  it('is empty when the plane agrees with its cells', () => {
    const plan = planRepair(
      base({
        cells: [cell('a', 9, ['x']), cell('b', 10, ['y'])],
        mapping: new Map([
          ['x', 'a'],
          ['y', 'b'],
        ]),
      }),
    );
    expect(plan).toEqual({ behind: null, repoint: [], end: [], lift: [], ambiguous: [], left: [] });
  });

  it('after a restore: advances the sequence, maps each customer where its rows are, ends its stale moves, lifts its barrier there', () => {
    const plan = planRepair(
      base({
        issued: 2,
        cells: [cell('a', 3, ['x', 'z'], ['w']), cell('b', 7, ['y', 'w', 'z'], ['y'])],
        mapping: new Map([
          ['x', 'b'],
          ['y', 'b'],
          ['z', 'c'],
          ['w', 'a'],
        ]),
        running: [
          { id: 4, customerId: 'x', interrupted: true },
          { id: 5, customerId: 'y', interrupted: true },
        ],
      }),
    );
    expect(plan.behind).toEqual({ cellId: 'b', fencing: 7, issued: 2 });
    expect(plan.repoint).toEqual([
      { customerId: 'w', from: 'a', to: 'b' },
      { customerId: 'x', from: 'b', to: 'a' },
    ]);
    expect(plan.end).toEqual([{ id: 4, customerId: 'x', servedBy: 'a' }]);
    // y is where it is mapped, with an interrupted move: resume/abort decide; its barrier stays.
    expect(plan.left).toEqual([{ id: 5, customerId: 'y' }]);
    expect(plan.lift).toEqual([]);
    expect(plan.ambiguous).toEqual([{ customerId: 'z', mappedTo: 'c', foundIn: ['a', 'b'] }]);
  });

  it('after a restore from before a --keep-source move: the live copy is the one no barrier refuses, not the mapped kept one', () => {
    const plan = planRepair(base({ cells: [cell('a', 4, ['x'], ['x']), cell('b', 4, ['x'])], mapping: new Map([['x', 'a']]) }));
    expect(plan.repoint).toEqual([{ customerId: 'x', from: 'a', to: 'b' }]);
    expect(plan.lift).toEqual([]);
    // And a --keep-source period the plane knows of is left as it is.
    expect(planRepair(base({ cells: [cell('a', 4, ['x'], ['x']), cell('b', 4, ['x'])], mapping: new Map([['x', 'b']]) }))).toMatchObject({
      repoint: [],
      lift: [],
    });
  });

  it('lifts a barrier set by hand in the cell that serves a customer no move runs for, and leaves live moves and unmapped customers alone', () => {
    const plan = planRepair(
      base({
        issued: 5,
        cells: [cell('a', 100, ['x', 'm', 'u'], ['x', 'm'])],
        mapping: new Map([
          ['x', 'a'],
          ['m', 'b'],
        ]),
        running: [{ id: 9, customerId: 'm', interrupted: false }],
      }),
    );
    expect(plan.behind).toEqual({ cellId: 'a', fencing: 100, issued: 5 });
    expect(plan.lift).toEqual([{ customerId: 'x', cellId: 'a' }]);
    expect(plan.repoint).toEqual([]);
  });
});
