// cellctl start: start the supervisor (if needed), the router and the cells, and wait until healthy.
import { parseSeconds } from '../../shared/names.js';
import { type CommandInput, flag, withWorkspace } from '../context.js';
import { processNames, startProcesses } from '../lifecycle.js';
import { say } from '../output.js';

export async function run(input: CommandInput): Promise<void> {
  const timeoutMs = parseSeconds(flag.string(input.opts, 'timeout') ?? '30', '--timeout') * 1000;
  await withWorkspace(input, async (ws) => {
    const names = processNames(ws, input.args);
    const result = await startProcesses(ws, names, timeoutMs);
    if (result.alreadyRunning.length > 0) say(`already running: ${result.alreadyRunning.join(', ')}`);
    say(`router on http://127.0.0.1:${ws.settings.routerPort} — "cellctl status" shows everything`);
  });
}
