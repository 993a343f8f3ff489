// cellctl drill kill: failure-mode analysis in one command — kill a cell under load and report who
// failed against the expected blast radius, and how long recovery took.
import { killDrill } from '../../drill/drill.js';
import type { DrillSummary } from '../../drill/summary.js';
import { ExitCode } from '../../shared/errors.js';
import { requireCell } from '../../workspace/cells.js';
import { withWorkspace } from '../context.js';
import { paint, printJson, printLine, renderTable, say } from '../output.js';
import type { InputOf } from '../define.js';
import type { drill } from '../commands/drill.js';

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

export async function run(input: InputOf<typeof drill>): Promise<void> {
  const { duration: durationMs, json } = input.opts;
  await withWorkspace(input, async (ws) => {
    const cell = await requireCell(ws, input.args.cell);
    const summary = await killDrill(ws, cell.id, { durationMs, concurrency: 4, warmupMs: 1000 }, (text) => (json ? undefined : say(text)));
    if (json) printJson(summary);
    else {
      printLine(
        renderTable(
          ['cell', 'customers', 'requests', 'failed', 'failed share', 'customers hit'],
          summary.cells.map((row) => [
            row.cell === summary.victim ? `${row.cell} (killed)` : row.cell,
            row.customers,
            row.requests,
            row.failed,
            percent(row.failedRequestShare),
            row.customersWithFailures,
          ]),
        ),
      );
      printLine(`expected blast radius: ${percent(summary.expectedBlastRadius)} of customers (the share in ${summary.victim})`);
      printLine(`observed: ${percent(summary.customerShareFailed)} of customers and ${percent(summary.requestShareFailed)} of requests failed`);
      printLine(`recovery: ${recoveryText(summary)}`);
      if (summary.rateLimited > 0)
        printLine(paint.red(`${summary.rateLimited} request(s) were rate-limited (429): other traffic used the customers' allowance (limits.rateLimit)`));
      printLine(
        summary.contained
          ? paint.green('contained: only the killed cell’s customers saw errors')
          : paint.red(`NOT contained: ${summary.failuresOutsideVictim} failures outside ${summary.victim}`),
      );
    }
    if (!summary.contained || (summary.recoveryMeasured && summary.recoveryMs === null)) process.exitCode = ExitCode.failure;
  });
}

function recoveryText(summary: DrillSummary): string {
  if (!summary.recoveryMeasured) return `not measured: ${summary.victim} holds no customers, so none could fail or recover`;
  return summary.recoveryMs === null ? paint.red('not recovered within the drill') : `${summary.recoveryMs} ms from kill to the first good answer`;
}
