// cellctl assign customer: pin a customer to a cell (or to where the placement policy puts it).
// A customer that is already mapped elsewhere is moved with "cellctl migrate", not re-assigned.
import { notifyRouter } from '../../router/client.js';
import { placeCustomer, placementCells } from '../../control/placement.js';
import { failure } from '../../shared/errors.js';
import { requireCell } from '../../workspace/cells.js';
import { withWorkspace } from '../context.js';
import { printJson, sayDone, sayWarning } from '../output.js';
import { dropTombstones } from '../../workspace/cell-data.js';
import type { InputOf } from '../define.js';
import type { assign } from '../commands/assign.js';

export async function run(input: InputOf<typeof assign>): Promise<void> {
  const customerId = input.args.id;
  await withWorkspace(input, async (ws) => {
    const cellFlag = input.opts.cell;
    const counts = await ws.plane.customerCounts();
    let cellId: string;
    if (cellFlag !== undefined) {
      const cell = await requireCell(ws, cellFlag);
      if ((counts.get(cell.id) ?? 0) >= cell.capacity && !input.opts.force) {
        throw failure(`cell ${cell.id} is at capacity (${cell.capacity}): choose another cell or pass --force`);
      }
      cellId = cell.id;
    } else {
      const placed = placeCustomer(customerId, placementCells(await ws.plane.listCells(), counts, ws.settings.placementTemplate), ws.settings.placement);
      if (placed === null)
        throw failure('no active cell that has run healthy has room: start a cell ("cellctl start"), create one, or raise a capacity; or pass --cell');
      cellId = placed;
    }
    const existing = await ws.plane.getCustomer(customerId);
    if (existing && existing.cellId !== cellId) {
      throw failure(`customer ${customerId} is already mapped to ${existing.cellId}: move it with "cellctl migrate customer ${customerId} --to ${cellId}"`);
    }
    const pinned = (await ws.plane.pinCustomers([{ customerId, cellId }])).length === 1;
    if (pinned) {
      await ws.plane.addEvent('cli', 'customer.assigned', customerId, `pinned to ${cellId}`);
      // A customer that once lived in this cell left a tombstone there; the placement brings it back.
      for (const missed of await dropTombstones(ws, [customerId], [await requireCell(ws, cellId)]))
        sayWarning(
          `could not reach ${missed} to let it take ${customerId}'s writes (it refuses them while it remembers the customer moved away): run "cellctl assign customer ${customerId} --cell ${cellId}" again once it answers`,
        );
    }
    const routerNotified = await notifyRouter(ws.home, ws.settings);
    if (input.opts.json) return printJson({ customerId, cellId, pinned, routerNotified });
    sayDone(pinned ? `customer ${customerId} pinned to ${cellId}` : `customer ${customerId} was already mapped to ${cellId}`);
  });
}
