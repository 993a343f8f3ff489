// cellctl delete: remove a cell. Refuses while customers are mapped to it, unless --force.
import { failure } from '../../shared/errors.js';
import type { CellRecord } from '../../control/plane.js';
import { removeCell, requireCell } from '../../workspace/cells.js';
import { unregisterCell } from '../../workspace/registered.js';
import type { Workspace } from '../../workspace/workspace.js';
import { withWorkspace } from '../context.js';
import { say, sayDone, sayWarning } from '../output.js';
import { dropTombstones } from '../../workspace/cell-data.js';
import { confirmAction } from '../prompt.js';
import { ensureCellNotRunning } from '../processes.js';
import type { InputOf } from '../define.js';
import type { remove } from '../commands/delete.js';

export async function run(input: InputOf<typeof remove>): Promise<void> {
  const force = input.opts.force;
  await withWorkspace(input, async (ws) => {
    const cell = await requireCell(ws, input.args.cell);
    if (!cell.managed) return await deleteRegistered(ws, cell);
    const customers = (await ws.plane.customerCounts()).get(cell.id) ?? 0;
    if (customers > 0 && !force) {
      throw failure(
        `cell ${cell.id} holds ${customers} customer(s): move them first with "cellctl drain ${cell.id}", or pass --force to delete them with the cell`,
      );
    }
    await ensureCellNotRunning(ws, cell.id);
    const what = customers > 0 ? `delete cell ${cell.id} and the data of its ${customers} customer(s)` : `delete cell ${cell.id}`;
    if (!(await confirmAction(what, input.opts.yes))) return say('nothing deleted');
    const unmapped = customers > 0 ? (await ws.plane.listCustomers(cell.id)).map((customer) => customer.id) : [];
    const { leftover } = await removeCell(ws, cell.id);
    if (leftover) sayWarning(`cell ${cell.id} is deleted, but ${leftover}`);
    await ws.plane.addEvent('cli', 'cell.deleted', cell.id, customers > 0 ? `deleted with ${customers} customers (--force)` : 'deleted');
    // Its customers are placed anew on their next create: no cell they once left may refuse them.
    if (unmapped.length > 0)
      for (const missed of await dropTombstones(ws, unmapped, await ws.plane.listCells()))
        sayWarning(`could not reach ${missed}: it may still refuse writes of customers that once moved away from it`);
    sayDone(`cell ${cell.id} deleted`);
  });
}

/** A registered cell runs elsewhere: deleting it forgets it (row and token), never its data. */
async function deleteRegistered(ws: Workspace, cell: CellRecord): Promise<void> {
  await unregisterCell(ws, cell);
  await ws.plane.addEvent('cli', 'cell.unregistered', cell.id, `unregistered (was at ${cell.url})`);
  sayDone(`cell ${cell.id} unregistered; the cell at ${cell.url} and its data are untouched`);
}
