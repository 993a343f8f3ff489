// cellctl restart: stop, then start and wait until healthy (the named cells, or everything).
import { parseSeconds } from '../../shared/names.js';
import { ROUTER } from '../../supervisor/protocol.js';
import { type CommandInput, flag, withWorkspace } from '../context.js';
import { processNames, startProcesses, stopProcesses } from '../lifecycle.js';

export async function run(input: CommandInput): Promise<void> {
  const timeoutMs = parseSeconds(flag.string(input.opts, 'timeout') ?? '30', '--timeout') * 1000;
  await withWorkspace(input, async (ws) => {
    const names = processNames(ws, input.args);
    const targets = input.args.length === 0 ? names : names.filter((name) => name !== ROUTER || input.args.includes(ROUTER));
    await stopProcesses(ws, targets, timeoutMs);
    await startProcesses(ws, names, timeoutMs);
  });
}
