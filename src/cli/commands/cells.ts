// cellctl cells register|unregister: cells run elsewhere (another host, an orchestrator), known by
// URL. The router routes to them, status and health probe them, moves reach their data API.
import { z } from 'zod';
import { notifyRouter } from '../../router/client.js';
import { requireCell } from '../../workspace/cells.js';
import { registerCell, unregisterCell } from '../../workspace/registered.js';
import { type CommandInput, withWorkspace } from '../context.js';
import { commandOptions, count, on, text, type OptionsOf } from '../options.js';
import { printJson, say, sayDone } from '../output.js';

export const registerOptions = commandOptions({
  template: text,
  url: text,
  dataUrl: text,
  tokenFile: text,
  capacity: count('--capacity').optional(),
  check: z.boolean().default(true),
  json: on,
});
export const unregisterOptions = commandOptions({});

export async function register(input: CommandInput<OptionsOf<typeof registerOptions>>): Promise<void> {
  const { capacity } = input.opts;
  await withWorkspace(input, async (ws) => {
    const cell = await registerCell(ws, {
      name: input.args[0]!,
      template: input.opts.template ?? '',
      url: input.opts.url ?? '',
      dataUrl: input.opts.dataUrl ?? '',
      tokenFile: input.opts.tokenFile,
      capacity,
      noCheck: !input.opts.check,
    });
    await ws.plane.addEvent('cli', 'cell.registered', cell.id, `registered at ${cell.url} (data API ${cell.dataUrl})`);
    // The router also sees the new cell by its own version check within a second.
    await notifyRouter(ws.home, ws.settings).catch(() => false);
    if (input.opts.json) return printJson(cell);
    sayDone(`cell ${cell.id} registered at ${cell.url} (template ${cell.template}, capacity ${cell.capacity})`);
    say('it receives new customers once the router finds it healthy; "cellctl status" shows it');
  });
}

export async function unregister(input: CommandInput<OptionsOf<typeof unregisterOptions>>): Promise<void> {
  await withWorkspace(input, async (ws) => {
    const cell = await requireCell(ws, input.args[0]!);
    await unregisterCell(ws, cell);
    await ws.plane.addEvent('cli', 'cell.unregistered', cell.id, `unregistered (was at ${cell.url})`);
    await notifyRouter(ws.home, ws.settings).catch(() => false);
    sayDone(`cell ${cell.id} unregistered; the cell at ${cell.url} and its data are untouched`);
  });
}
