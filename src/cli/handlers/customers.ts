// cellctl customers list|show|unassign|purge: the mapping rows (customer → cell); one customer in
// full (mapping, route, rows per table in every cell, recent moves); removing a mapping row that
// points at no data; and removing a stray copy of a customer's rows from a cell that does not serve it.
import { confirmAction } from '../prompt.js';
import { notifyRouter } from '../../router/client.js';
import { ExitCode, failure } from '../../shared/errors.js';
import { requireCell } from '../../workspace/cells.js';
import { customerRowsByCell, dropTombstones } from '../../workspace/cell-data.js';
import { purgeStrayCopy } from '../../migration/engine.js';
import { withWorkspace } from '../context.js';
import type { InputOf } from '../define.js';
import type { customersList, customersPurge, customersShow, customersUnassign } from '../commands/customers.js';
import type { unassign as unassignCommand } from '../commands/unassign.js';
import { printData } from '../formats.js';
import { printJson, printLine, renderTable, say, sayDone, sayError, sayWarning } from '../output.js';

export async function list(input: InputOf<typeof customersList>): Promise<void> {
  const { cell: cellFlag, output } = input.opts;
  await withWorkspace(input, async (ws) => {
    const customers = await ws.plane.listCustomers(cellFlag === undefined ? undefined : (await requireCell(ws, cellFlag)).id);
    if (
      printData(
        output,
        customers.map(({ id, cellId, createdAt }) => ({ id, cellId, createdAt })),
      )
    )
      return;
    if (customers.length === 0) return say('no customers mapped yet');
    printLine(
      renderTable(
        ['customer', 'cell', 'mapped since'],
        customers.map((customer) => [customer.id, customer.cellId, customer.createdAt]),
        { wide: output === 'wide' },
      ),
    );
    say(`${customers.length} customer(s)`);
  });
}

/** One customer in full: its mapping, its rows in every cell that has any (per customer-scoped table), its recent moves. */
export async function show(input: InputOf<typeof customersShow>): Promise<void> {
  const {
    args: { id: customerId },
    opts: { output },
  } = input;
  const wide = output === 'wide';
  await withWorkspace(input, async (ws) => {
    const mapping = (await ws.plane.getCustomer(customerId)) ?? null;
    const { rows, unreadable } = await customerRowsByCell(ws, customerId);
    const moves = (await ws.plane.migrationsOf(customerId, 10)).map((m) => ({
      id: m.id,
      from: m.sourceCell,
      to: m.targetCell,
      state: m.state,
      step: m.step,
      startedAt: m.startedAt,
    }));
    if (!mapping && Object.keys(rows).length === 0 && moves.length === 0 && unreadable.length === 0)
      throw failure(`no customer "${customerId}": not mapped, no rows in any cell, never moved ("cellctl customers" lists them)`);
    const report = { customerId, cell: mapping?.cellId ?? null, mappedSince: mapping?.createdAt ?? null, rows, unreadableCells: unreadable, moves };
    // The rows of the cells that could be read are shown; the answer is incomplete, and the exit code says so.
    if (unreadable.length > 0) process.exitCode = ExitCode.failure;
    if (printData(output, report)) return;
    for (const cell of unreadable) sayError(`cell ${cell.cell} not read: ${cell.reason}`);
    printLine(`${customerId} → ${report.cell ?? '(not mapped)'}${report.mappedSince ? ` since ${report.mappedSince}` : ''}`);
    const cells = Object.entries(rows);
    printLine(
      cells.length === 0
        ? 'rows: none in any cell'
        : renderTable(
            ['cell', 'table', 'rows'],
            cells.flatMap(([cell, counts]) => Object.entries(counts).map(([table, n]) => [cell, table, n])),
            { wide },
          ),
    );
    if (moves.length > 0)
      printLine(
        renderTable(
          ['move', 'from', 'to', 'state', 'step', 'started'],
          moves.map((m) => [m.id, m.from, m.to, m.state, m.step, m.startedAt]),
          { wide },
        ),
      );
  });
}

/** `customers unassign <id>`, and `unassign customer <id>`. */
export async function unassign(input: InputOf<typeof customersUnassign> | InputOf<typeof unassignCommand>): Promise<void> {
  const customerId = input.args.id;
  await withWorkspace(input, async (ws) => {
    const mapping = await ws.plane.getCustomer(customerId);
    if (!mapping) throw failure(`customer ${customerId} has no mapping row; nothing to unassign`);
    const running = await ws.plane.runningMigrationFor(customerId);
    if (running) throw failure(`customer ${customerId} is being moved (migration ${running.id}): finish it first ("cellctl migrate show ${running.id}")`);
    const { rows, unreadable } = await customerRowsByCell(ws, customerId);
    const unknown = unreadable.find((cell) => cell.cell === mapping.cellId);
    if (unknown && !input.opts.force)
      throw failure(`cannot tell whether ${mapping.cellId} holds rows of ${customerId}: ${unknown.reason}; pass --force to unassign it anyway`);
    const held = rows[mapping.cellId];
    if (held && !input.opts.force) {
      const total = Object.values(held).reduce((sum, n) => sum + n, 0);
      throw failure(
        `customer ${customerId} has ${total} row(s) in ${mapping.cellId}; unassigning would hide them (its next create lands anywhere): pass --force if that is meant`,
      );
    }
    if (!(await ws.plane.unmapCustomer(customerId, mapping.cellId)))
      throw failure(`customer ${customerId} changed meanwhile (moved or being moved); look again with "cellctl customers show ${customerId}"`);
    await ws.plane.addEvent('cli', 'customer.unassigned', customerId, `mapping to ${mapping.cellId} removed${held ? ' (--force, rows kept in the cell)' : ''}`);
    // Unmapped, the customer may be placed in any cell next: none may refuse it for having left once.
    for (const missed of await dropTombstones(ws, [customerId], await ws.plane.listCells()))
      sayWarning(`could not reach ${missed}: it may still refuse ${customerId}'s writes as a customer that moved away`);
    const routerNotified = await notifyRouter(ws.home, ws.settings);
    if (input.opts.json) return printJson({ customerId, cellId: mapping.cellId, unassigned: true, routerNotified });
    sayDone(`customer ${customerId} is no longer mapped to ${mapping.cellId}`);
  });
}

/** Removes a stray copy of a customer's rows (migration/engine.ts purgeStrayCopy says when it may). */
export async function purgeCopy(input: InputOf<typeof customersPurge>): Promise<void> {
  const customerId = input.args.id;
  const cellName = input.opts.cell!; // the definition's check asks for --cell
  await withWorkspace(input, async (ws) => {
    const cell = await requireCell(ws, cellName);
    // As delete: asked on a terminal, --yes elsewhere (the purge itself still refuses the only copy).
    if (!(await confirmAction(`remove ${customerId}'s rows from ${cell.id}`, input.opts.yes))) return say('nothing removed');
    const { removed, servedBy } = await purgeStrayCopy(ws, customerId, cell);
    await ws.plane.addEvent('cli', 'customer.copy-purged', customerId, `${removed} stray row(s) removed from ${cell.id}; ${servedBy} serves the customer`);
    if (input.opts.json) return printJson({ customerId, cell: cell.id, servedBy, removed });
    sayDone(`removed ${removed} row(s) of ${customerId} from ${cell.id}; ${servedBy} still serves it`);
  });
}
