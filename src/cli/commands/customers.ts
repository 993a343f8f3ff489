// cellctl customers: the mapping rows (customer → cell), optionally for one cell.
import { requireCell } from '../../workspace/cells.js';
import { type CommandInput, flag, withWorkspace } from '../context.js';
import { printJson, printLine, renderTable, say } from '../output.js';

export async function run(input: CommandInput): Promise<void> {
  await withWorkspace(input, (ws) => {
    const cellFlag = flag.string(input.opts, 'cell');
    const customers = ws.store.listCustomers(cellFlag === undefined ? undefined : requireCell(ws, cellFlag).id);
    if (flag.bool(input.opts, 'json')) return printJson(customers.map(({ id, cellId, createdAt }) => ({ id, cellId, createdAt })));
    if (customers.length === 0) return say('no customers mapped yet');
    printLine(renderTable(['customer', 'cell', 'mapped since'], customers.map((customer) => [customer.id, customer.cellId, customer.createdAt])));
    say(`${customers.length} customer(s)`);
  });
}
