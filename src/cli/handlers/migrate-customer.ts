// cellctl migrate customer: move one customer to another cell with the journaled protocol, or
// (--dry-run) show the plan and change nothing.
import { gatherMoveCheck } from '../../migration/checks.js';
import { moveBatch } from '../../migration/engine.js';
import { stepsOf } from '../../control/plane.js';
import { keylessCopy, smallCopy } from '../../migration/copy-modes.js';
import { describedActions, drive, moveSteps, type StepName } from '../../migration/driver.js';
import { type MoveCheck, moveRefusal } from '../../migration/plan.js';
import type { Workspace } from '../../workspace/workspace.js';
import { describeError, failure } from '../../shared/errors.js';
import { withCellData } from '../../workspace/cell-data.js';
import { withWorkspace } from '../context.js';
import { formatDuration, printJson, printLine, renderTable, startProgress } from '../output.js';
import type { OnlineProgress } from '../../migration/online-copy.js';

/**
 * Rows an online copy moves per second, for --dry-run's estimate: the benchmark's figure on a quiet
 * 2-core machine (docs/benchmarks.md, "Online moves by customer size").
 */
const COPY_ROWS_PER_SECOND = 40_000;

/** One line of where an online move stands. */
function describeProgress(customerId: string, at: OnlineProgress): string {
  const eta = at.etaMs === null ? '' : `, about ${formatDuration(at.etaMs)} left`;
  if (at.phase === 'copying')
    return `moving ${customerId}: copied ${at.rows}/${at.totalRows} rows (${Math.floor((at.rows / Math.max(1, at.totalRows)) * 100)}%)${eta}`;
  return `moving ${customerId}: catching up, ${at.lag} change(s) behind${eta}`;
}
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

    if (input.opts.dryRun) return dryRun(ws, check, keepSourceMs !== null, json);

    const keepSourceUntil = keepSourceMs === null ? null : new Date(Date.now() + keepSourceMs).toISOString();
    const started = performance.now();
    const progress = await startProgress(`moving ${customerId} from ${source.id} to ${target.id}`, json);
    let result;
    try {
      result = await moveBatch(ws, [{ customerId, from: source.id, to: target.id }], {
        keepSourceUntil,
        batch: null,
        maxLag: input.opts.maxLag,
        cutover: input.opts.cutover,
        onProgress: (at) => progress.update(describeProgress(customerId, at)),
      });
    } catch (error) {
      progress.fail(`move of ${customerId} did not finish`);
      throw error;
    }
    const report = {
      customerId,
      from: source.id,
      to: target.id,
      migrationId: result.migrationIds[0],
      tookMs: Math.round(performance.now() - started),
      requestsHeldMs: Math.round(result.fencedMs * 10) / 10,
      copy: result.copy,
      stepsMs: result.stepsMs,
      verification: result.verification,
      keepSourceUntil,
    };
    if (json) {
      progress.succeed(`moved ${customerId}`);
      return printJson(report);
    }
    progress.succeed(
      `moved ${customerId} from ${source.id} to ${target.id} in ${report.tookMs} ms (${result.copy.mode === 'online' ? 'copied online' : 'fenced copy'}; requests held ${report.requestsHeldMs} ms; ${result.verification.reduce((sum, t) => sum + t.targetRows, 0)} rows verified)`,
    );
    if (keepSourceUntil) printLine(`source rows kept until ${keepSourceUntil}; "cellctl migrate purge" removes them after that`);
  });
}

/** --dry-run: the steps, how the rows would be copied and why, rows per table, an estimate of the copy's time; nothing changes. */
async function dryRun(ws: Workspace, check: MoveCheck, keepSource: boolean, json: boolean): Promise<void> {
  const { customerId } = check;
  const source = check.source!;
  const target = check.target!;
  const { summary, online } = await withCellData(ws, source, async (api) => ({
    summary: await api.summary([customerId], { checksums: false }),
    online: (await api.info()).online,
  }));
  const rows = Object.fromEntries(summary.tables.map((table) => [table.table, table.rows]));
  const totalRows = summary.tables.reduce((sum, table) => sum + table.rows, 0);
  const why = smallCopy(totalRows, 1, ws.settings.limits.onlineMoveRows) ?? keylessCopy(totalRows, online);
  const copy = { mode: why === null ? 'online' : 'fenced', why };
  // The steps as the move's own driver runs them, over actions that only say what they would do.
  const described: { step: StepName; what: string }[] = [];
  const actions = describedActions(
    { customers: customerId, from: source.id, to: target.id, online: why === null, routers: check.targetLiveness !== 'offline' },
    (step, what) => described.push({ step, what }),
  );
  await drive(moveSteps(actions, { online: why === null, keepSource }), { lost: () => null, describe: describeError });
  const estimatedMs = Math.round((totalRows / COPY_ROWS_PER_SECOND) * 1000);
  const plan = {
    customerId,
    from: source.id,
    to: target.id,
    steps: described,
    journalSteps: stepsOf(why === null),
    copy,
    rows,
    estimatedMs,
    keepSource,
    targetLiveness: check.targetLiveness,
  };
  if (json) return printJson(plan);
  const held =
    check.targetLiveness === 'offline'
      ? 'system not running: no fence needed'
      : why === null
        ? 'copied online, held at the router for the cutover only'
        : `fenced at the router for the whole copy: ${why}`;
  printLine(`plan: move ${customerId} from ${source.id} to ${target.id} (${held})`);
  described.forEach(({ step, what }, index) => printLine(`${index + 1}. ${step}: ${what}`));
  if (keepSource) printLine('(the purge is deferred by --keep-source)');
  printLine(`estimated copy time: ${formatDuration(estimatedMs)} for ${totalRows} row(s) (at ${COPY_ROWS_PER_SECOND} rows/s, measured by "npm run bench")`);
  printLine(
    renderTable(
      ['table', 'rows to copy'],
      Object.entries(rows).map(([table, count]) => [table, count]),
    ),
  );
}
