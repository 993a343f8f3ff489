// cellctl status: one table (or -o json|yaml) with the supervisor, the router and every cell.
import { ExitCode, isCellctlError } from '../../shared/errors.js';
import { collectStatus } from '../../status/collect.js';
import type { StatusReport } from '../../status/model.js';
import { withWorkspace } from '../context.js';
import type { Workspace } from '../../workspace/workspace.js';
import { printData, printRecord } from '../formats.js';
import { printLine, sayError } from '../output.js';
import { renderStatus } from '../views/status.js';
import type { InputOf } from '../define.js';
import type { status } from '../commands/status.js';

export async function run(input: InputOf<typeof status>): Promise<void> {
  const { watch, output } = input.opts;
  const render = (report: StatusReport) => renderStatus(report, output === 'wide');
  await withReachablePlane(input, async (ws) => {
    if (!watch) {
      const report = await collectStatus(ws);
      return void (printData(output, report) || printLine(render(report)));
    }
    let stopped = false;
    // Ctrl-C ends the watch as an interrupted command: exit 130, as a shell reports one.
    process.once('SIGINT', () => {
      stopped = true;
      process.exitCode = ExitCode.interrupted;
    });
    // Screen-clearing codes only for a terminal; a pipe gets one report after another.
    const clear = process.stdout.isTTY ? '\x1b[2J\x1b[H' : '';
    while (!stopped) {
      const report = await collectStatus(ws);
      if (output === 'json' || output === 'yaml') printRecord(output, report);
      else process.stdout.write(`${clear}${render(report)}\n${clear ? '(refreshing every 2 s; Ctrl-C to quit)\n' : '\n'}`);
      for (let waited = 0; waited < 2000 && !stopped; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
}

/**
 * Like withWorkspace, but an unreachable control plane is a verdict, not a failed command: one line
 * (its location without a password) and exit 3, as health reports an unreadable one.
 */
async function withReachablePlane(input: InputOf<typeof status>, work: (ws: Workspace) => Promise<void>): Promise<void> {
  try {
    await withWorkspace(input, work);
  } catch (error) {
    if (!isCellctlError(error) || error.code !== 'E_CONTROL_UNAVAILABLE') throw error;
    sayError(error.message.split('\n')[0]!);
    process.exitCode = ExitCode.unhealthy;
  }
}
