// cellctl drain: move every customer out of a cell (respecting the others' capacity), in batches.
import { cellLoads, resumeLeftovers } from '../../migration/bulk.js';
import { planDrain } from '../../migration/plan.js';
import { notifyRouter } from '../../router/client.js';
import { failure } from '../../shared/errors.js';
import { requireCell } from '../../workspace/cells.js';
import { withWorkspace } from '../context.js';
import { runMovesInterruptibly } from '../bulk.js';
import { printJson, printLine, renderTable, say, sayDone } from '../output.js';
import type { InputOf } from '../define.js';
import type { drain } from '../commands/drain.js';

export async function run(input: InputOf<typeof drain>): Promise<void> {
  const { batchSize, json } = input.opts;
  await withWorkspace(input, async (ws) => {
    const cell = await requireCell(ws, input.args.cell);
    const loads = await cellLoads(ws);
    const source = loads.find((load) => load.id === cell.id)!;
    const customers = (await ws.plane.listCustomers(cell.id)).map((customer) => customer.id);
    let moves;
    try {
      moves = planDrain(source, customers, loads);
    } catch (error) {
      throw failure(`cannot drain ${cell.id}: ${(error as Error).message}`);
    }
    if (input.opts.dryRun) {
      const perTarget = new Map<string, number>();
      for (const move of moves) perTarget.set(move.to, (perTarget.get(move.to) ?? 0) + 1);
      if (json) return printJson({ cell: cell.id, customers: moves.length, targets: Object.fromEntries(perTarget) });
      printLine(`plan: move ${moves.length} customer(s) out of ${cell.id}`);
      if (perTarget.size > 0)
        printLine(
          renderTable(
            ['target', 'customers'],
            [...perTarget].map(([target, count]) => [target, count]),
          ),
        );
      return;
    }
    // No new customers are placed in a draining cell.
    await ws.plane.setCellStatus(cell.id, 'draining');
    await notifyRouter(ws.home, ws.settings);
    const resumed = await resumeLeftovers(ws, new Set([cell.id]));
    const remaining = planDrain(
      source,
      (await ws.plane.listCustomers(cell.id)).map((customer) => customer.id),
      await cellLoads(ws),
    );
    const result = await runMovesInterruptibly(ws, remaining, batchSize, `draining ${cell.id}`, json);
    const report = { cell: cell.id, ...result, resumed, customersPerSecond: result.seconds > 0 ? Math.round(result.moved / result.seconds) : null };
    if (json) return printJson(report);
    if (result.interrupted) return say(`moved ${result.moved} of ${remaining.length}; run "cellctl drain ${cell.id}" again to continue`);
    sayDone(
      `drained ${cell.id}: ${result.moved} customer(s) moved in ${result.seconds.toFixed(2)} s${report.customersPerSecond ? ` (${report.customersPerSecond}/s)` : ''}`,
    );
    say(`${cell.id} stays "draining" (no new customers): delete it with "cellctl delete ${cell.id} --yes" or re-open it with "cellctl activate ${cell.id}"`);
  });
}
