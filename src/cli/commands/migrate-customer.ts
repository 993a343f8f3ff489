// cellctl migrate customer: move one customer to another cell with the journaled protocol, or
// (--dry-run) show the plan and change nothing.
import { gatherMoveCheck } from '../../migration/checks.js';
import { moveBatch } from '../../migration/engine.js';
import { MIGRATION_STEPS } from '../../control/plane.js';
import { moveRefusal } from '../../migration/plan.js';
import { failure, usageError } from '../../shared/errors.js';
import { checkCustomerId, parseDuration } from '../../shared/names.js';
import { loadTemplate } from '../../templates/catalog.js';
import { withCellData } from '../../workspace/cell-data.js';
import { type CommandInput, withWorkspace } from '../context.js';
import { z } from 'zod';
import { commandOptions, on, text, type OptionsOf } from '../options.js';
import { printJson, printLine, renderTable, sayDone } from '../output.js';

/** --keep-source alone means 24 hours; with a value, that duration. */
const keepSource = z.union([z.literal(true), z.string()]).optional();

export const options = commandOptions({ to: text, dryRun: on, keepSource, force: on, json: on });

export async function run(input: CommandInput<OptionsOf<typeof options>>): Promise<void> {
  const customerId = checkCustomerId(input.args[0]!);
  const to = input.opts.to;
  if (!to) throw usageError('missing --to <cell>: name the cell to move the customer to');
  const keepRaw = input.opts.keepSource;
  const keepSourceMs = keepRaw === undefined ? null : parseDuration(keepRaw === true ? '24h' : keepRaw, '--keep-source');
  const json = input.opts.json;

  await withWorkspace(input, async (ws) => {
    const check = await gatherMoveCheck(ws, customerId, to, input.opts.force);
    const refusal = moveRefusal(check);
    if (refusal) throw failure(`cannot move ${customerId}: ${refusal}`, 'E_MIGRATION_REFUSED');
    const source = check.source!;
    const target = check.target!;

    if (input.opts.dryRun) {
      const summary = await withCellData(ws, source, (api) => api.summary([customerId]));
      const rows = Object.fromEntries(summary.tables.map((table) => [table.table, table.rows]));
      const plan = {
        customerId,
        from: source.id,
        to: target.id,
        steps: MIGRATION_STEPS,
        rows,
        keepSource: keepSourceMs !== null,
        targetLiveness: check.targetLiveness,
      };
      if (json) return printJson(plan);
      printLine(
        `plan: move ${customerId} from ${source.id} to ${target.id} (${check.targetLiveness === 'offline' ? 'system not running: no fence needed' : 'fenced at the router'})`,
      );
      printLine(`steps: ${MIGRATION_STEPS.join(' → ')}${keepSourceMs !== null ? ' (purge deferred by --keep-source)' : ''}`);
      printLine(
        renderTable(
          ['table', 'rows to copy'],
          Object.entries(rows).map(([table, count]) => [table, count]),
        ),
      );
      return;
    }

    const keepSourceUntil = keepSourceMs === null ? null : new Date(Date.now() + keepSourceMs).toISOString();
    const started = performance.now();
    const result = await moveBatch(ws, [{ customerId, from: source.id, to: target.id }], { keepSourceUntil, batch: null });
    const report = {
      customerId,
      from: source.id,
      to: target.id,
      migrationId: result.migrationIds[0],
      tookMs: Math.round(performance.now() - started),
      requestsHeldMs: Math.round(result.fencedMs * 10) / 10,
      verification: result.verification,
      keepSourceUntil,
    };
    if (json) return printJson(report);
    sayDone(
      `moved ${customerId} from ${source.id} to ${target.id} in ${report.tookMs} ms (requests held ${report.requestsHeldMs} ms; ${result.verification.reduce((sum, t) => sum + t.targetRows, 0)} rows verified)`,
    );
    if (keepSourceUntil) printLine(`source rows kept until ${keepSourceUntil}; "cellctl migrate purge" removes them after that`);
  });
}
