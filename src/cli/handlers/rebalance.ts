// cellctl rebalance: plan moves that even out load against capacity, and run them in batches.
import { cellLoads, resumeLeftovers } from '../../migration/bulk.js';
import { planRebalance } from '../../migration/plan.js';
import { withWorkspace } from '../context.js';
import { runMovesInterruptibly } from '../bulk.js';
import { printJson, printLine, renderTable, say, sayDone } from '../output.js';
import type { InputOf } from '../define.js';
import type { rebalance } from '../commands/rebalance.js';

export async function run(input: InputOf<typeof rebalance>): Promise<void> {
  const { maxMoves, batchSize, json } = input.opts;
  await withWorkspace(input, async (ws) => {
    const active = (await cellLoads(ws)).filter((cell) => cell.active);
    const resumed = input.opts.dryRun ? 0 : await resumeLeftovers(ws, new Set(active.map((cell) => cell.id)));
    const loads = (await cellLoads(ws)).filter((cell) => cell.active);
    const byCell = new Map<string, string[]>();
    for (const cell of loads)
      byCell.set(
        cell.id,
        (await ws.plane.listCustomers(cell.id)).map((customer) => customer.id),
      );
    const moves = planRebalance(loads, byCell, maxMoves);
    const flows = new Map<string, number>();
    for (const move of moves) flows.set(`${move.from} → ${move.to}`, (flows.get(`${move.from} → ${move.to}`) ?? 0) + 1);
    if (input.opts.dryRun) {
      if (json) return printJson({ moves: moves.length, flows: Object.fromEntries(flows) });
      if (moves.length === 0) return say('already balanced: no moves needed');
      printLine(`plan: ${moves.length} move(s)`);
      printLine(
        renderTable(
          ['from → to', 'customers'],
          [...flows].map(([flow, count]) => [flow, count]),
        ),
      );
      return;
    }
    if (moves.length === 0) return json ? printJson({ moved: 0, resumed }) : say('already balanced: no moves needed');
    const result = await runMovesInterruptibly(ws, moves, batchSize, 'rebalancing', json);
    if (json) return printJson({ ...result, resumed, flows: Object.fromEntries(flows) });
    if (result.interrupted) return say(`moved ${result.moved} of ${moves.length}; run "cellctl rebalance" again to continue`);
    sayDone(`rebalanced: ${result.moved} customer(s) moved in ${result.seconds.toFixed(2)} s`);
  });
}
