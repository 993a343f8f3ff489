// cellctl start: start the supervisor (if needed), the router and the cells, and wait until healthy.
import { withWorkspace } from '../context.js';
import { processNames, startProcesses } from '../lifecycle.js';
import { say } from '../output.js';
import type { InputOf } from '../define.js';
import type { start } from '../commands/start.js';

export async function run(input: InputOf<typeof start>): Promise<void> {
  const timeoutMs = input.opts.timeout;
  await withWorkspace(input, async (ws) => {
    const names = await processNames(ws, input.args.cell);
    const result = await startProcesses(ws, names, timeoutMs);
    if (result.alreadyRunning.length > 0) say(`already running: ${result.alreadyRunning.join(', ')}`);
    say(`router on http://127.0.0.1:${ws.settings.routerPort} — "cellctl status" shows everything`);
  });
}
