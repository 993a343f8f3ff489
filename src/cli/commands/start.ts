// cellctl start: start the supervisor (if needed), the router and the cells, and wait until healthy.
import { type CommandInput, withWorkspace } from '../context.js';
import { processNames, startProcesses } from '../lifecycle.js';
import { say } from '../output.js';
import { commandOptions, type OptionsOf, secondsAsMs } from '../options.js';

export const options = commandOptions({ timeout: secondsAsMs('--timeout') });

export async function run(input: CommandInput<OptionsOf<typeof options>>): Promise<void> {
  const timeoutMs = input.opts.timeout;
  await withWorkspace(input, async (ws) => {
    const names = await processNames(ws, input.args);
    const result = await startProcesses(ws, names, timeoutMs);
    if (result.alreadyRunning.length > 0) say(`already running: ${result.alreadyRunning.join(', ')}`);
    say(`router on http://127.0.0.1:${ws.settings.routerPort} — "cellctl status" shows everything`);
  });
}
