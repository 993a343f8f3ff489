// cellctl repair [--dry-run] [--yes]: brings a control plane that is behind its cells (restored from
// a backup) back in line with them (migration/repair.ts); --dry-run prints the plan, a terminal asks,
// elsewhere --yes is needed. It never deletes a row.
import { applyRepair, describePlan, gatherRepair, isEmptyPlan, planRepair } from '../../migration/repair.js';
import { notifyRouter } from '../../router/client.js';
import { type CommandInput, withWorkspace } from '../context.js';
import { commandOptions, on, type OptionsOf } from '../options.js';
import { confirmAction } from '../prompt.js';
import { printJson, printLine, say, sayDone, sayWarning } from '../output.js';

export const options = commandOptions({ dryRun: on, yes: on, json: on });

export async function run(input: CommandInput<OptionsOf<typeof options>>): Promise<void> {
  await withWorkspace(input, async (ws) => {
    const { input: seen, cells, running } = await gatherRepair(ws);
    const plan = planRepair(seen);
    const lines = describePlan(plan);
    const apply = !isEmptyPlan(plan) && !input.opts.dryRun && (await confirmAction(`repair: ${lines.length} change(s) to the control plane`, input.opts.yes));
    if (apply) {
      await applyRepair(ws, plan, cells, running);
      await notifyRouter(ws.home, ws.settings);
    }
    if (input.opts.json) return printJson({ ...plan, applied: apply });
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
