// cellctl activate: re-open a drained cell to new customers.
import { notifyRouter } from '../../router/client.js';
import { requireCell } from '../../workspace/cells.js';
import { withWorkspace } from '../context.js';
import { sayDone } from '../output.js';
import type { InputOf } from '../define.js';
import type { activate } from '../commands/activate.js';

export async function run(input: InputOf<typeof activate>): Promise<void> {
  await withWorkspace(input, async (ws) => {
    const cell = await requireCell(ws, input.args.cell);
    await ws.plane.setCellStatus(cell.id, 'active');
    await notifyRouter(ws.home, ws.settings);
    sayDone(`cell ${cell.id} is active and takes new customers`);
  });
}
