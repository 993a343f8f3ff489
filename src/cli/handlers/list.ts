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
        // A local cell is its port here; a registered one, its host:port. Created is to the minute, UTC
        // (day and time wrap apart on a narrow terminal); -o wide shows it whole.
        cells.map((cell) => [
          cell.id,
          cell.template,
          `v${cell.schemaVersion}`,
          cell.managed ? cell.port : cell.url.replace(/^http:\/\//, ''),
          `${cell.customers}/${cell.capacity}`,
          cell.status,
          output === 'wide' ? cell.createdAt : `${cell.createdAt.slice(0, 10)} ${cell.createdAt.slice(11, 16)}Z`,
        ]),
        { wide: output === 'wide' },
      ),
    );
  });
}
