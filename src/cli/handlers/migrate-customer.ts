// cellctl migrate customer: move one customer to another cell with the journaled protocol, or
// (--dry-run) show the plan and change nothing.
import { gatherMoveCheck } from '../../migration/checks.js';
import { moveBatch } from '../../migration/engine.js';
import { MIGRATION_STEPS } from '../../control/plane.js';
import { moveRefusal } from '../../migration/plan.js';
import { failure } from '../../shared/errors.js';
import { withCellData } from '../../workspace/cell-data.js';
import { withWorkspace } from '../context.js';
import { printJson, printLine, renderTable, sayDone } from '../output.js';
import type { InputOf } from '../define.js';
import type { migrateCustomer } from '../commands/migrate.js';

export async function run(input: InputOf<typeof migrateCustomer>): Promise<void> {
  const customerId = input.args.id;
  const to = input.opts.to!; // the definition's check refuses a move without --to
  const { keepSource: keepSourceMs, json } = input.opts;

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
      stepsMs: result.stepsMs,
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
