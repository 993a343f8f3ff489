// cellctl restart: stop, then start and wait until healthy (the named cells, or everything).
import { ROUTER } from '../../supervisor/protocol.js';
import { type CommandInput, withWorkspace } from '../context.js';
import { processNames, startProcesses, stopProcesses } from '../lifecycle.js';
import { commandOptions, type OptionsOf, secondsAsMs } from '../options.js';

export const options = commandOptions({ timeout: secondsAsMs('--timeout') });

export async function run(input: CommandInput<OptionsOf<typeof options>>): Promise<void> {
  const timeoutMs = input.opts.timeout;
  await withWorkspace(input, async (ws) => {
    const names = await processNames(ws, input.args);
    const targets = input.args.length === 0 ? names : names.filter((name) => name !== ROUTER || input.args.includes(ROUTER));
    await stopProcesses(ws, targets, timeoutMs);
    await startProcesses(ws, names, timeoutMs);
  });
}
