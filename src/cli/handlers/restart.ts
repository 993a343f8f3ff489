// cellctl restart: stop, then start and wait until healthy (the named cells, or everything).
import { ROUTER } from '../../supervisor/protocol.js';
import { withWorkspace } from '../context.js';
import { processNames, startProcesses, stopProcesses } from '../lifecycle.js';
import type { InputOf } from '../define.js';
import type { restart } from '../commands/restart.js';

export async function run(input: InputOf<typeof restart>): Promise<void> {
  const timeoutMs = input.opts.timeout;
  await withWorkspace(input, async (ws) => {
    const names = await processNames(ws, input.args.name);
    const targets = input.args.name.length === 0 ? names : names.filter((name) => name !== ROUTER || input.args.name.includes(ROUTER));
    await stopProcesses(ws, targets, timeoutMs);
    await startProcesses(ws, names, timeoutMs);
  });
}
