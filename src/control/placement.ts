// Where an unmapped customer goes. Pure functions over plain data.
//
// Rendezvous (highest-random-weight) hashing: each customer ranks every cell by hash(customer, cell)
// and takes the best one that can take it. Adding a cell moves only the customers that now rank it
// first (about 1/n of the unmapped ones); removing one moves only its own.

import type { CellRecord } from './records.js';
import { hash32 } from '../shared/hash.js';

export interface PlacementCell {
  id: string;
  capacity: number;
  customers: number;
  /** Only active cells receive new customers (a draining cell is being emptied). */
  active: boolean;
}

export type PlacementPolicy = 'hash' | 'least-loaded';

/** The cell rendezvous hashing picks for a customer among `cells`, or null if there are none. */
export function rendezvousCell(customerId: string, cellIds: readonly string[]): string | null {
  let best: string | null = null;
  let bestScore = -1;
  for (const id of cellIds) {
    const score = hash32(`${customerId}\u0000${id}`);
    if (score > bestScore || (score === bestScore && best !== null && id < best)) {
      best = id;
      bestScore = score;
    }
  }
  return best;
}

/**
 * The cells as placement sees them: a cell takes new customers only when active, once it was seen
 * healthy (a cell created but never started would refuse them), and when it is of the workspace's
 * placement template (null: any), since a client speaks one app's API.
 */
export function placementCells(cells: readonly CellRecord[], counts: ReadonlyMap<string, number>, template: string | null): PlacementCell[] {
  return cells.map((cell) => ({
    id: cell.id,
    capacity: cell.capacity,
    customers: counts.get(cell.id) ?? 0,
    active: cell.status === 'active' && cell.firstHealthyAt !== null && (template === null || cell.template === template),
  }));
}

export function hasRoom(cell: PlacementCell): boolean {
  return cell.active && cell.customers < cell.capacity;
}

/**
 * The cell a new customer should be placed in under `policy`, respecting capacity; null when every
 * active cell is full.
 */
export function placeCustomer(customerId: string, cells: readonly PlacementCell[], policy: PlacementPolicy): string | null {
  const open = cells.filter(hasRoom);
  if (open.length === 0) return null;
  if (policy === 'hash')
    return rendezvousCell(
      customerId,
      open.map((cell) => cell.id),
    );
  let best = open[0]!;
  for (const cell of open) {
    const load = cell.customers / cell.capacity;
    const bestLoad = best.customers / best.capacity;
    if (load < bestLoad || (load === bestLoad && cell.id < best.id)) best = cell;
  }
  return best.id;
}
