// cellctl repair [--dry-run] [--yes]: brings a control plane that is behind its cells (restored from
// a backup) back in line with them (migration/repair.ts); --dry-run prints the plan, a terminal asks,
// elsewhere --yes is needed. It never deletes a row.
import { applyRepair, describePlan, gatherRepair, isEmptyPlan, planRepair } from '../../migration/repair.js';
import { notifyRouter } from '../../router/client.js';
import { withWorkspace } from '../context.js';
import { confirmAction } from '../prompt.js';
import { printData } from '../formats.js';
import { printLine, say, sayDone, sayWarning } from '../output.js';
import type { InputOf } from '../define.js';
import type { repair } from '../commands/repair.js';

export async function run(input: InputOf<typeof repair>): Promise<void> {
  await withWorkspace(input, async (ws) => {
    const { input: seen, cells, running } = await gatherRepair(ws);
    const plan = planRepair(seen);
    const lines = describePlan(plan);
    const apply = !isEmptyPlan(plan) && !input.opts.dryRun && (await confirmAction(`repair: ${lines.length} change(s) to the control plane`, input.opts.yes));
    if (apply) {
      await applyRepair(ws, plan, cells, running);
      await notifyRouter(ws.home, ws.settings);
    }
    if (printData(input.opts.output, { ...plan, applied: apply })) return;
    if (isEmptyPlan(plan)) sayDone('nothing to repair: the control plane agrees with its cells');
    else {
      for (const line of lines) printLine(`${apply ? 'done' : input.opts.dryRun ? 'would' : 'skipped'}: ${line}`);
      if (apply) sayDone(`control plane repaired (${lines.length} change(s)); "cellctl audit" checks every customer`);
      else if (input.opts.dryRun) say('dry run: nothing changed; run "cellctl repair --yes" to apply');
    }
    for (const a of plan.ambiguous)
      sayWarning(`${a.customerId}: rows in ${a.foundIn.join(' and ')}, mapped to ${a.mappedTo}: left alone ("cellctl customers show ${a.customerId}")`);
    for (const l of plan.left) say(`migration ${l.id} of ${l.customerId} is left running: "cellctl migrate resume ${l.id}" or "cellctl migrate abort ${l.id}"`);
  });
}
