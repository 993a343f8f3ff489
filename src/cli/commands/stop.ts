// cellctl stop: stop named processes, or (no names) everything: cells, router and supervisor.
import { parseSeconds } from '../../shared/names.js';
import { ROUTER } from '../../supervisor/protocol.js';
import { requireCell } from '../../workspace/cells.js';
import { type CommandInput, flag, withWorkspace } from '../context.js';
import { stopProcesses } from '../lifecycle.js';
import { say, sayDone } from '../output.js';

export async function run(input: CommandInput): Promise<void> {
  const timeoutMs = parseSeconds(flag.string(input.opts, 'timeout') ?? '10', '--timeout') * 1000;
  await withWorkspace(input, async (ws) => {
    if (input.args.length === 0) {
      await stopProcesses(ws, null, timeoutMs);
      return;
    }
    const names = input.args.map((name) => (name === ROUTER ? name : requireCell(ws, name).id));
    const stopped = await stopProcesses(ws, names, timeoutMs);
    if (stopped.length > 0) sayDone(`stopped ${stopped.join(', ')}`);
    const already = names.filter((name) => !stopped.includes(name));
    if (already.length > 0) say(`not running: ${already.join(', ')}`);
  });
}
