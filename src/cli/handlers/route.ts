// cellctl route: which cell serves a customer, and by which rule.
import { explainRoute } from '../../router/explain.js';
import { withWorkspace } from '../context.js';
import { printData } from '../formats.js';
import { printLine } from '../output.js';
import type { InputOf } from '../define.js';
import type { route } from '../commands/route.js';

export async function run(input: InputOf<typeof route>): Promise<void> {
  const customerId = input.args.customer;
  await withWorkspace(input, async (ws) => {
    const explanation = explainRoute(
      customerId,
      (await ws.plane.getCustomer(customerId))?.cellId,
      await ws.plane.runningMigrationFor(customerId),
      await ws.plane.listCells(),
      await ws.plane.customerCounts(),
      ws.settings.placement,
      ws.settings.placementTemplate,
    );
    if (printData(input.opts.output, explanation)) return;
    printLine(`${customerId} → ${explanation.cell ?? '(no cell)'}  [${explanation.rule}${explanation.fencedBy ? ', fenced' : ''}]`);
    printLine(explanation.explanation);
  });
}
