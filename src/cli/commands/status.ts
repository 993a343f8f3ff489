// cellctl status: one table (or --json) with the supervisor, the router and every cell.
import { ExitCode, isCellctlError, usageError } from '../../shared/errors.js';
import { collectStatus } from '../../status/collect.js';
import type { StatusReport } from '../../status/model.js';
import { type CommandInput, withWorkspace } from '../context.js';
import type { Workspace } from '../../workspace/workspace.js';
import { printJson, printLine, sayError } from '../output.js';
import { renderStatus } from '../views/status.js';
import { commandOptions, type OptionsOf, on, text } from '../options.js';

export const options = commandOptions({ json: on, output: text, watch: on });

export async function run(input: CommandInput<OptionsOf<typeof options>>): Promise<void> {
  const { json, watch, output } = input.opts;
  if (output !== undefined && output !== 'wide') throw usageError(`-o takes "wide", got "${output}"`);
  const render = (report: StatusReport) => renderStatus(report, output === 'wide');
  await withReachablePlane(input, async (ws) => {
    if (!watch) {
      const report = await collectStatus(ws);
      return json ? printJson(report) : printLine(render(report));
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
      if (json) process.stdout.write(JSON.stringify(report) + '\n');
      else process.stdout.write(`${clear}${render(report)}\n${clear ? '(refreshing every 2 s; Ctrl-C to quit)\n' : '\n'}`);
      for (let waited = 0; waited < 2000 && !stopped; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
}

/**
 * Like withWorkspace, but an unreachable control plane is a verdict, not a failed command: one line
 * (its location without a password) and exit 3, as health reports an unreadable one.
 */
async function withReachablePlane(input: CommandInput, work: (ws: Workspace) => Promise<void>): Promise<void> {
  try {
    await withWorkspace(input, work);
  } catch (error) {
    if (!isCellctlError(error) || error.code !== 'E_CONTROL_UNAVAILABLE') throw error;
    sayError(error.message.split('\n')[0]!);
    process.exitCode = ExitCode.unhealthy;
  }
}
