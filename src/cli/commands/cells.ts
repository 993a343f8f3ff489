// cellctl cells register|unregister: cells run elsewhere (another host, an orchestrator), known by
// URL. The router routes to them, status and health probe them, moves reach their data API.
import { parsePositiveInt } from '../../shared/names.js';
import { notifyRouter } from '../../router/client.js';
import { requireCell } from '../../workspace/cells.js';
import { registerCell, unregisterCell } from '../../workspace/registered.js';
import { type CommandInput, flag, withWorkspace } from '../context.js';
import { printJson, say, sayDone } from '../output.js';

export async function register(input: CommandInput): Promise<void> {
  const capacityFlag = flag.string(input.opts, 'capacity');
  const capacity = capacityFlag === undefined ? undefined : parsePositiveInt(capacityFlag, '--capacity');
  await withWorkspace(input, async (ws) => {
    const cell = await registerCell(ws, {
      name: input.args[0]!,
      template: flag.string(input.opts, 'template') ?? '',
      url: flag.string(input.opts, 'url') ?? '',
      dataUrl: flag.string(input.opts, 'dataUrl') ?? '',
      tokenFile: flag.string(input.opts, 'tokenFile'),
      capacity,
      noCheck: input.opts.check === false,
    });
    ws.store.addEvent('cli', 'cell.registered', cell.id, `registered at ${cell.url} (data API ${cell.dataUrl})`);
    // The router also sees the new cell by its own version check within a second.
    await notifyRouter(ws.home, ws.settings).catch(() => false);
    if (flag.bool(input.opts, 'json')) return printJson(cell);
    sayDone(`cell ${cell.id} registered at ${cell.url} (template ${cell.template}, capacity ${cell.capacity})`);
    say('it receives new customers once the router finds it healthy; "cellctl status" shows it');
  });
}

export async function unregister(input: CommandInput): Promise<void> {
  await withWorkspace(input, async (ws) => {
    const cell = requireCell(ws, input.args[0]!);
    unregisterCell(ws, cell);
    ws.store.addEvent('cli', 'cell.unregistered', cell.id, `unregistered (was at ${cell.url})`);
    await notifyRouter(ws.home, ws.settings).catch(() => false);
    sayDone(`cell ${cell.id} unregistered; the cell at ${cell.url} and its data are untouched`);
  });
}
