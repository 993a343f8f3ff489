// `cellctl route`: which cell serves a customer and by which rule. Pure; the same rules the router
// applies (mapping row first, else the placement policy), plus an in-flight migration's fence.
import type { CellRecord, MigrationRecord } from '../control/records.js';
import { type PlacementPolicy, placeCustomer, placementCells } from '../control/placement.js';

export interface RouteExplanation {
  customerId: string;
  cell: string | null;
  rule: 'mapping' | 'hash' | 'least-loaded' | 'none';
  fencedBy: { migrationId: number; from: string; to: string; step: string } | null;
  explanation: string;
}

export function explainRoute(
  customerId: string,
  mappedCell: string | undefined,
  running: MigrationRecord | undefined,
  cells: readonly CellRecord[],
  counts: ReadonlyMap<string, number>,
  policy: PlacementPolicy,
  template: string | null = null,
): RouteExplanation {
  const fencedBy = running ? { migrationId: running.id, from: running.sourceCell, to: running.targetCell, step: running.step } : null;
  const fenceNote = running
    ? `; migration ${running.id} (${running.sourceCell} → ${running.targetCell}) is in progress after step "${running.step}", so the router may be holding its requests`
    : '';
  if (mappedCell !== undefined) {
    return { customerId, cell: mappedCell, rule: 'mapping', fencedBy, explanation: `mapping row: ${customerId} → ${mappedCell}${fenceNote}` };
  }
  const placed = placeCustomer(customerId, placementCells(cells, counts, template), policy);
  if (placed === null) {
    return {
      customerId,
      cell: null,
      rule: 'none',
      fencedBy,
      explanation: `not mapped, and no active cell${template ? ` of template ${template}` : ''} that has run healthy has room: requests get 503`,
    };
  }
  const how = policy === 'hash' ? 'rendezvous hash over the active cells with room' : 'the least-loaded active cell';
  return {
    customerId,
    cell: placed,
    rule: policy,
    fencedBy,
    explanation: `not mapped; ${how} picks ${placed} (a create through the router pins it there)${fenceNote}`,
  };
}
