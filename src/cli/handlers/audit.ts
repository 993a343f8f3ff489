// cellctl audit: finds customers whose rows sit in a cell they are not mapped to, in two cells, or
// nowhere. Exits 4 when it finds any.
import { ALL } from '../../control/plane.js';
import { auditPlacement } from '../../migration/audit.js';
import { allCustomersIn } from '../../data/client.js';
import { ExitCode } from '../../shared/errors.js';
import { withCellData } from '../../workspace/cell-data.js';
import { withWorkspace } from '../context.js';
import { printData } from '../formats.js';
import { paint, printLine, renderTable, sayDone } from '../output.js';
import type { InputOf } from '../define.js';
import type { audit } from '../commands/audit.js';

export async function run(input: InputOf<typeof audit>): Promise<void> {
  await withWorkspace(input, async (ws) => {
    // Through each cell's data API, wherever the cell runs; one that does not answer fails the audit.
    const rowsByCell = new Map(
      await Promise.all((await ws.plane.listCells()).map(async (cell) => [cell.id, await withCellData(ws, cell, allCustomersIn)] as const)),
    );
    const excused = new Set((await ws.plane.listMigrations({ state: 'running', limit: ALL })).map((m) => m.customerId));
    const keptSources = new Map(
      (await ws.plane.listMigrations({ state: 'done', limit: ALL }))
        .filter((m) => m.keepSourceUntil !== null && m.step !== 'purged')
        .map((m) => [m.customerId, m.sourceCell]),
    );
    const mapping = new Map((await ws.plane.listCustomers()).map((customer) => [customer.id, customer.cellId]));
    const findings = auditPlacement({ mapping, rowsByCell, excused, keptSources });
    const checked = new Set([...mapping.keys(), ...[...rowsByCell.values()].flatMap((ids) => [...ids])]).size;
    const { output } = input.opts;
    if (printData(output, { customersChecked: checked, inFlight: [...excused], findings })) {
      // The report holds the findings; the exit code below says whether there are any.
    } else if (findings.length === 0) sayDone(`${checked} customer(s) checked: every one is wholly in the cell it is mapped to`);
    else
      printLine(
        renderTable(
          ['problem', 'customer', 'mapped to', 'rows found in', 'advice'],
          findings.map((f) => [paint.red(f.kind), f.customerId, f.mappedTo ?? '-', f.foundIn.join(', ') || '-', f.advice]),
          { wide: output === 'wide' },
        ),
      );
    if (findings.length > 0) process.exitCode = ExitCode.inconsistent;
  });
}
