// The dashboard's customer search: the cell that serves a customer, the rule that placed it (as
// `cellctl route` explains it) and its rows per table in every cell (as `cellctl customers show`).
import { customerRowCounts } from '../migration/rows.js';
import { explainRoute } from '../router/explain.js';
import { describeError } from '../shared/errors.js';
import { loadTemplate } from '../templates/catalog.js';
import { cellPaths } from '../workspace/paths.js';
import type { Workspace } from '../workspace/workspace.js';
import type { CustomerAnswer } from './protocol.js';

function rowsByCell(ws: Workspace, customerId: string): Record<string, Record<string, number>> {
  const found: Record<string, Record<string, number>> = {};
  for (const cell of ws.store.listCells()) {
    const counts = customerRowCounts(cellPaths(ws.home, cell.id).dataDb, loadTemplate(cell.templateDir).customerTables, customerId);
    if (Object.values(counts).some((n) => n > 0)) found[cell.id] = counts;
  }
  return found;
}

export function lookUpCustomer(ws: Workspace, customerId: string): CustomerAnswer {
  const explanation = explainRoute(
    customerId,
    ws.store.getCustomer(customerId)?.cellId,
    ws.store.runningMigrationFor(customerId),
    ws.store.listCells(),
    ws.store.customerCounts(),
    ws.settings.placement,
    ws.settings.placementTemplate,
  );
  let rows: CustomerAnswer['rows'] = null;
  let rowsError: string | null = null;
  try {
    rows = rowsByCell(ws, customerId);
  } catch (error) {
    // A cell's database may be busy or mid-move; the mapping and the rule are still worth showing.
    rowsError = describeError(error);
  }
  return {
    customerId,
    cell: explanation.cell,
    rule: explanation.rule,
    explanation: explanation.explanation,
    fenced: explanation.fencedBy !== null,
    rows,
    rowsError,
  };
}
