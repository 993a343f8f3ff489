// cellctl health: exit 0 only when the router and every started cell are healthy (for CI).
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
    else if (verdict.healthy) sayDone(`healthy: router and ${report.cells.filter((cell) => cell.state === 'running').length} cell(s)`);
    else {
      sayError('unhealthy');
      for (const problem of verdict.problems) say(`  - ${problem}`);
    }
    if (!verdict.healthy) process.exitCode = ExitCode.unhealthy;
  });
}
