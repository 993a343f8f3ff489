// The dashboard's customer search: the cell that serves a customer, the rule that placed it (as
// `cellctl route` explains it) and its rows per table in every cell (as `cellctl customers show`).
import { explainRoute } from '../router/explain.js';
import { describeError } from '../shared/errors.js';
import { customerRowsByCell } from '../workspace/cell-data.js';
import type { Workspace } from '../workspace/workspace.js';
import type { CustomerAnswer } from './protocol.js';

export async function lookUpCustomer(ws: Workspace, customerId: string): Promise<CustomerAnswer> {
  const explanation = explainRoute(
    customerId,
    (await ws.plane.getCustomer(customerId))?.cellId,
    await ws.plane.runningMigrationFor(customerId),
    await ws.plane.listCells(),
    await ws.plane.customerCounts(),
    ws.settings.placement,
    ws.settings.placementTemplate,
  );
  let rows: CustomerAnswer['rows'] = null;
  let rowsError: string | null = null;
  try {
    const found = await customerRowsByCell(ws, customerId);
    rows = found.rows;
    // The cells that could be read are shown; the others are named with why.
    if (found.unreadable.length > 0) rowsError = found.unreadable.map((cell) => `cell ${cell.cell} could not be read: ${cell.reason}`).join('; ');
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
