// cellctl activate: re-open a drained cell to new customers.
import { notifyRouter } from '../../router/client.js';
import { requireCell } from '../../workspace/cells.js';
import { type CommandInput, withWorkspace } from '../context.js';
import { sayDone } from '../output.js';

export async function run(input: CommandInput): Promise<void> {
  await withWorkspace(input, async (ws) => {
    const cell = await requireCell(ws, input.args[0]!);
    await ws.plane.setCellStatus(cell.id, 'active');
    await notifyRouter(ws.home, ws.settings);
    sayDone(`cell ${cell.id} is active and takes new customers`);
  });
}
