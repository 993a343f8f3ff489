// Moving customers, the pure part: the protocol's steps, whether a move may start, and which moves
// a drain or a rebalance makes. No I/O here.
import { type CellRecord, MIGRATION_STEPS, type MigrationStep } from '../control/plane.js';
import { hasRoom, type PlacementCell } from '../control/placement.js';

/** Whether the mapping already points at the target: from here on, rolling back is a move back. */
export const isSwitched = (step: MigrationStep): boolean => MIGRATION_STEPS.indexOf(step) >= MIGRATION_STEPS.indexOf('switched');

export interface Move {
  customerId: string;
  from: string;
  to: string;
}

/** What the target cell's process looks like to the migration. `offline`: the system is not running. */
export type TargetLiveness = 'running' | 'stopped' | 'unhealthy' | 'offline';

export interface MoveCheck {
  customerId: string;
  mappedCell: string | undefined;
  source: CellRecord | undefined;
  target: CellRecord | undefined;
  targetName: string;
  targetCustomers: number;
  targetLiveness: TargetLiveness;
  sourceDataVersion: number | null;
  targetDataVersion: number | null;
  /** A migration of this customer still running: in progress (`runBy` names its owner) or interrupted. */
  runningMigration: { id: number; runBy: string | null } | null;
  force: boolean;
}

/** Why a move may not start, or null when it may. Every reason says what to do instead. */
export function moveRefusal(check: MoveCheck): string | null {
  const { customerId, target } = check;
  if (check.mappedCell === undefined || !check.source) {
    return `customer ${customerId} is not mapped to any cell: place it first with "cellctl assign customer ${customerId}"`;
  }
  if (!target) return `no cell named "${check.targetName}": "cellctl list" shows the cells`;
  if (target.id === check.source.id) return `customer ${customerId} is already in ${target.id}`;
  const running = check.runningMigration;
  if (running !== null) {
    return running.runBy
      ? `customer ${customerId} is being moved by migration ${running.id} (run by ${running.runBy}): wait for it to finish`
      : `customer ${customerId} has interrupted migration ${running.id}: finish it with "cellctl migrate resume ${running.id}" or roll it back with "cellctl migrate abort ${running.id}"`;
  }
  if (target.status !== 'active') return `cell ${target.id} is ${target.status} and takes no customers`;
  if (check.targetLiveness === 'stopped') return `cell ${target.id} is stopped: start it with "cellctl start ${target.id}"`;
  if (check.targetLiveness === 'unhealthy') return `cell ${target.id} fails its health check: see "cellctl logs ${target.id}"`;
  if (target.template !== check.source.template) {
    return `cell ${target.id} runs template ${target.template} but ${check.source.id} runs ${check.source.template}: customers move only between cells of the same template`;
  }
  if (target.schemaVersion !== check.source.schemaVersion || check.sourceDataVersion !== check.targetDataVersion) {
    return `schema versions differ (${check.source.id}: v${check.sourceDataVersion ?? check.source.schemaVersion}, ${target.id}: v${check.targetDataVersion ?? target.schemaVersion}): upgrade the older cell first`;
  }
  if (check.targetCustomers >= target.capacity && !check.force) {
    return `cell ${target.id} is at capacity (${check.targetCustomers}/${target.capacity}): choose another cell or pass --force`;
  }
  return null;
}

export interface CellLoad extends PlacementCell {
  template: string;
}

/**
 * Moves that empty `source`: each customer goes to the active cell of the same template with the
 * lowest load (customers / capacity), never past capacity. Throws when the others cannot hold them.
 */
export function planDrain(source: CellLoad, customers: readonly string[], cells: readonly CellLoad[]): Move[] {
  const targets = cells.filter((cell) => cell.id !== source.id && cell.template === source.template).map((cell) => ({ ...cell }));
  const room = targets.filter(hasRoom).reduce((sum, cell) => sum + (cell.capacity - cell.customers), 0);
  if (room < customers.length) {
    throw new Error(
      `the other ${source.template} cells have room for ${room} customer(s) but ${source.id} holds ${customers.length}: create a cell or raise a capacity first`,
    );
  }
  return customers.map((customerId) => {
    const target = leastLoaded(targets)!;
    target.customers += 1;
    return { customerId, from: source.id, to: target.id };
  });
}

function leastLoaded<T extends PlacementCell>(cells: T[]): T | undefined {
  let best: T | undefined;
  for (const cell of cells) {
    if (!hasRoom(cell)) continue;
    if (!best || cell.customers / cell.capacity < best.customers / best.capacity) best = cell;
  }
  return best;
}

/**
 * Moves that even out load (customers / capacity) among cells of the same template: repeatedly move
 * one customer from the fullest cell to the emptiest while that narrows the gap, up to `maxMoves`.
 */
export function planRebalance(cells: readonly CellLoad[], customersByCell: ReadonlyMap<string, readonly string[]>, maxMoves: number): Move[] {
  const moves: Move[] = [];
  const byTemplate = new Map<string, { cell: CellLoad; pool: string[] }[]>();
  for (const cell of cells) {
    const group = byTemplate.get(cell.template) ?? [];
    group.push({ cell: { ...cell }, pool: [...(customersByCell.get(cell.id) ?? [])] });
    byTemplate.set(cell.template, group);
  }
  for (const group of byTemplate.values()) {
    while (moves.length < maxMoves) {
      const load = (entry: { cell: CellLoad }) => entry.cell.customers / entry.cell.capacity;
      const sorted = [...group].sort((a, b) => load(b) - load(a));
      const fullest = sorted[0];
      const emptiest = sorted.filter((entry) => hasRoom(entry.cell)).at(-1);
      if (!fullest || !emptiest || fullest === emptiest || fullest.pool.length === 0) break;
      const after = Math.abs((fullest.cell.customers - 1) / fullest.cell.capacity - (emptiest.cell.customers + 1) / emptiest.cell.capacity);
      if (after >= load(fullest) - load(emptiest)) break;
      const customerId = fullest.pool.pop()!;
      fullest.cell.customers -= 1;
      emptiest.cell.customers += 1;
      emptiest.pool.push(customerId);
      moves.push({ customerId, from: fullest.cell.id, to: emptiest.cell.id });
    }
  }
  return moves;
}

/** Splits moves into batches that share a source and a target, at most `size` each. */
export function batchMoves(moves: readonly Move[], size: number): Move[][] {
  const groups = new Map<string, Move[]>();
  for (const move of moves) {
    const key = `${move.from}\u0000${move.to}`;
    const group = groups.get(key) ?? [];
    group.push(move);
    groups.set(key, group);
  }
  const batches: Move[][] = [];
  for (const group of groups.values()) {
    for (let index = 0; index < group.length; index += size) batches.push(group.slice(index, index + size));
  }
  return batches;
}
