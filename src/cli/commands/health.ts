// cellctl health: exit 0 only when no customer would be refused (router, control store, every cell
// holding customers or started, no interrupted move); otherwise exit 3, with who is hit and what helps.
import { ExitCode } from '../../shared/errors.js';
import { collectStatus } from '../../status/collect.js';
import { judgeHealth } from '../../status/model.js';
import { type CommandInput, flag, withWorkspace } from '../context.js';
import { printJson, say, sayDone, sayError } from '../output.js';

export async function run(input: CommandInput): Promise<void> {
  await withWorkspace(input, async (ws) => {
    const report = await collectStatus(ws);
    const verdict = judgeHealth(report);
    if (flag.bool(input.opts, 'json')) printJson({ ...verdict, report });
    else if (verdict.healthy)
      sayDone(`healthy: router and ${report.cells.filter((cell) => cell.state === 'running' || cell.state === 'registered').length} cell(s)`);
    else {
      sayError(`unhealthy: ${verdict.customersAffected} customer(s) refused`);
      for (const problem of verdict.problems) say(`  - ${problem}`);
    }
    if (!verdict.healthy) process.exitCode = ExitCode.unhealthy;
  });
}
