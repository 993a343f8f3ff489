// cellctl customers [list|show|unassign|purge]: the mapping rows (customer → cell); one customer in
// full (mapping, route, rows per table in every cell, recent moves); removing a mapping row that
// points at no data; and removing a stray copy of a customer's rows from a cell that does not serve it.
import { notifyRouter } from '../../router/client.js';
import { ExitCode, failure, usageError } from '../../shared/errors.js';
import { checkCustomerId } from '../../shared/names.js';
import { requireCell } from '../../workspace/cells.js';
import { customerRowsByCell, dropTombstones } from '../../workspace/cell-data.js';
import { purgeStrayCopy } from '../../migration/engine.js';
import type { Workspace } from '../../workspace/workspace.js';
import { type CommandInput, withWorkspace } from '../context.js';
import { commandOptions, on, text, type OptionsOf } from '../options.js';
import { printJson, printLine, renderTable, say, sayDone, sayError, sayWarning } from '../output.js';

export const options = commandOptions({ cell: text, force: on, json: on });
type Input = CommandInput<OptionsOf<typeof options>>;
/** `cellctl unassign customer <id>` takes only these. */
export const unassignOptions = commandOptions({ force: on, json: on });

export async function run(input: Input): Promise<void> {
  const [action, id] = input.args;
  if (action === undefined || action === 'list') return list(input);
  if (action !== 'show' && action !== 'unassign' && action !== 'purge')
    throw usageError(`unknown customers action "${action}": use list, show <id>, unassign <id> or purge <id> --cell <cell>`);
  if (id === undefined) throw usageError(`usage: cellctl customers ${action} <id>${action === 'purge' ? ' --cell <cell>' : ''}`);
  const customerId = checkCustomerId(id);
  if (action === 'purge') return purgeCopy(input, customerId);
  return action === 'show' ? show(input, customerId) : unassign(input, customerId);
}

/** `cellctl unassign customer <id>`: the same as `cellctl customers unassign <id>`. */
export function runUnassignCommand(input: CommandInput<OptionsOf<typeof unassignOptions>>): Promise<void> {
  if (input.args[0] !== 'customer' || input.args[1] === undefined) throw usageError('usage: cellctl unassign customer <id> [--force]');
  return unassign(input, checkCustomerId(input.args[1]));
}

async function list(input: Input): Promise<void> {
  await withWorkspace(input, async (ws) => {
    const cellFlag = input.opts.cell;
    const customers = await ws.plane.listCustomers(cellFlag === undefined ? undefined : (await requireCell(ws, cellFlag)).id);
    if (input.opts.json) return printJson(customers.map(({ id, cellId, createdAt }) => ({ id, cellId, createdAt })));
    if (customers.length === 0) return say('no customers mapped yet');
    printLine(
      renderTable(
        ['customer', 'cell', 'mapped since'],
        customers.map((customer) => [customer.id, customer.cellId, customer.createdAt]),
      ),
    );
    say(`${customers.length} customer(s)`);
  });
}

/** The customer's rows in every cell that has any, per customer-scoped table. */

async function show(input: Input, customerId: string): Promise<void> {
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
    if (input.opts.json) return printJson(report);
    for (const cell of unreadable) sayError(`cell ${cell.cell} not read: ${cell.reason}`);
    printLine(`${customerId} → ${report.cell ?? '(not mapped)'}${report.mappedSince ? ` since ${report.mappedSince}` : ''}`);
    const cells = Object.entries(rows);
    printLine(
      cells.length === 0
        ? 'rows: none in any cell'
        : renderTable(
            ['cell', 'table', 'rows'],
            cells.flatMap(([cell, counts]) => Object.entries(counts).map(([table, n]) => [cell, table, n])),
          ),
    );
    if (moves.length > 0)
      printLine(
        renderTable(
          ['move', 'from', 'to', 'state', 'step', 'started'],
          moves.map((m) => [m.id, m.from, m.to, m.state, m.step, m.startedAt]),
        ),
      );
  });
}

async function unassign(input: Input, customerId: string): Promise<void> {
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
    for (const missed of await dropTombstones(ws, customerId, await ws.plane.listCells()))
      sayWarning(`could not reach ${missed}: it may still refuse ${customerId}'s writes as a customer that moved away`);
    const routerNotified = await notifyRouter(ws.home, ws.settings);
    if (input.opts.json) return printJson({ customerId, cellId: mapping.cellId, unassigned: true, routerNotified });
    sayDone(`customer ${customerId} is no longer mapped to ${mapping.cellId}`);
  });
}

/** Removes a stray copy of a customer's rows (migration/engine.ts purgeStrayCopy says when it may). */
async function purgeCopy(input: Input, customerId: string): Promise<void> {
  const cellName = input.opts.cell;
  if (cellName === undefined) throw usageError(`say which cell holds the stray copy: cellctl customers purge ${customerId} --cell <cell>`);
  await withWorkspace(input, async (ws) => {
    const cell = await requireCell(ws, cellName);
    const { removed, servedBy } = await purgeStrayCopy(ws, customerId, cell);
    await ws.plane.addEvent('cli', 'customer.copy-purged', customerId, `${removed} stray row(s) removed from ${cell.id}; ${servedBy} serves the customer`);
    if (input.opts.json) return printJson({ customerId, cell: cell.id, servedBy, removed });
    sayDone(`removed ${removed} row(s) of ${customerId} from ${cell.id}; ${servedBy} still serves it`);
  });
}
