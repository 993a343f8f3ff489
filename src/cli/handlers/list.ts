// cellctl list: the cells of the workspace, with their customers against capacity.
import { withWorkspace } from '../context.js';
import { printData } from '../formats.js';
import { printLine, renderTable, say } from '../output.js';
import type { InputOf } from '../define.js';
import type { list } from '../commands/list.js';

export async function run(input: InputOf<typeof list>): Promise<void> {
  await withWorkspace(input, async (ws) => {
    const counts = await ws.plane.customerCounts();
    const cells = (await ws.plane.listCells()).map((cell) => ({ ...cell, customers: counts.get(cell.id) ?? 0 }));
    const { output } = input.opts;
    if (printData(output, cells)) return;
    if (cells.length === 0) return say('no cells yet: create one with "cellctl create cell-1 --template basic"');
    printLine(
      renderTable(
        ['cell', 'template', 'schema', 'where', 'customers', 'status', 'created'],
        // A local cell is its port here; a registered one, its host:port (created shrinks to the day to make room).
        cells.map((cell) => [
          cell.id,
          cell.template,
          `v${cell.schemaVersion}`,
          cell.managed ? cell.port : cell.url.replace(/^http:\/\//, ''),
          `${cell.customers}/${cell.capacity}`,
          cell.status,
          cell.managed ? cell.createdAt : cell.createdAt.slice(0, 10),
        ]),
        { wide: output === 'wide' },
      ),
    );
  });
}
