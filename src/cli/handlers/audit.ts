// cellctl audit: finds customers whose rows sit in a cell they are not mapped to, in two cells, or
// nowhere. Exits 4 when it finds any; a cell that cannot be read is named (with why) and the others
// are still audited, and the audit then exits 1 unless it found something.
import { ALL } from '../../control/plane.js';
import { type AuditFinding, auditPlacement } from '../../migration/audit.js';
import { allCustomersIn } from '../../data/client.js';
import { ExitCode } from '../../shared/errors.js';
import { readEveryCell, type UnreadableCell } from '../../workspace/cell-data.js';
import type { Workspace } from '../../workspace/workspace.js';
import { withWorkspace } from '../context.js';
import { printData } from '../formats.js';
import type { OutputFormat } from '../define.js';
import { paint, printLine, renderTable, say, sayDone, sayError } from '../output.js';
import type { InputOf } from '../define.js';
import type { audit as auditCommand } from '../commands/audit.js';

interface AuditReport {
  customersChecked: number;
  inFlight: string[];
  findings: AuditFinding[];
  unreadableCells: UnreadableCell[];
}

export async function run(input: InputOf<typeof auditCommand>): Promise<void> {
  await withWorkspace(input, async (ws) => {
    const report = await audit(ws);
    render(report, input.opts.output);
    if (report.findings.length > 0) process.exitCode = ExitCode.inconsistent;
    else if (report.unreadableCells.length > 0) process.exitCode = ExitCode.failure;
  });
}

async function audit(ws: Workspace): Promise<AuditReport> {
  // Through each cell's data API, wherever the cell runs; one that cannot be read is named, the others still read.
  const { read: rowsByCell, unreadable } = await readEveryCell(ws, await ws.plane.listCells(), allCustomersIn);
  const excused = new Set((await ws.plane.listMigrations({ state: 'running', limit: ALL })).map((m) => m.customerId));
  const keptSources = new Map(
    (await ws.plane.listMigrations({ state: 'done', limit: ALL }))
      .filter((m) => m.keepSourceUntil !== null && m.step !== 'purged')
      .map((m) => [m.customerId, m.sourceCell]),
  );
  const mapping = new Map((await ws.plane.listCustomers()).map((customer) => [customer.id, customer.cellId]));
  const unreadableCells = new Set(unreadable.map((cell) => cell.cell));
  const findings = auditPlacement({ mapping, rowsByCell, excused, keptSources, unreadableCells });
  const checked = new Set([...mapping.keys(), ...[...rowsByCell.values()].flatMap((ids) => [...ids])]).size;
  return { customersChecked: checked, inFlight: [...excused], findings, unreadableCells: unreadable };
}

function render(report: AuditReport, output: OutputFormat): void {
  // The report holds the findings; the exit code says whether there are any.
  if (printData(output, report)) return;
  const { findings, customersChecked: checked, unreadableCells: unreadable } = report;
  if (findings.length === 0 && unreadable.length === 0) sayDone(`${checked} customer(s) checked: every one is wholly in the cell it is mapped to`);
  if (findings.length > 0) {
    // The advice holds a command to copy: a line of its own under the table, unless -o wide keeps it in a column.
    const wide = output === 'wide';
    const head = ['problem', 'customer', 'mapped to', 'rows found in', ...(wide ? ['advice'] : [])];
    const rows = findings.map((f) => [paint.red(f.kind), f.customerId, f.mappedTo ?? '-', f.foundIn.join(', ') || '-', ...(wide ? [f.advice] : [])]);
    printLine(renderTable(head, rows, { wide }));
    if (!wide) for (const f of findings) printLine(`${f.customerId}: ${f.advice}`);
  }
  for (const cell of unreadable) sayError(`cell ${cell.cell} not audited: ${cell.reason}`);
  if (unreadable.length > 0 && findings.length === 0) say(`in the other cells: no problem found (${checked} customer(s) checked)`);
}
