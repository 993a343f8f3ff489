// cellctl route: which cell serves a customer, and by which rule.
import { explainRoute } from '../../router/explain.js';
import { checkCustomerId } from '../../shared/names.js';
import { type CommandInput, withWorkspace } from '../context.js';
import { printJson, printLine } from '../output.js';
import { commandOptions, type OptionsOf, on } from '../options.js';

export const options = commandOptions({ json: on });

export async function run(input: CommandInput<OptionsOf<typeof options>>): Promise<void> {
  const customerId = checkCustomerId(input.args[0]!);
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
    if (input.opts.json) return printJson(explanation);
    printLine(`${customerId} → ${explanation.cell ?? '(no cell)'}  [${explanation.rule}${explanation.fencedBy ? ', fenced' : ''}]`);
    printLine(explanation.explanation);
  });
}
