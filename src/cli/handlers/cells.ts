// cellctl cells register|unregister: cells run elsewhere (another host, an orchestrator), known by
// URL. The router routes to them, status and health probe them, moves reach their data API.
import { notifyRouter } from '../../router/client.js';
import { requireCell } from '../../workspace/cells.js';
import { registerCell, unregisterCell } from '../../workspace/registered.js';
import { withWorkspace } from '../context.js';
import type { InputOf } from '../define.js';
import type { cellsRegister, cellsUnregister } from '../commands/cells.js';
import { printJson, say, sayDone } from '../output.js';

export async function register(input: InputOf<typeof cellsRegister>): Promise<void> {
  const { capacity } = input.opts;
  await withWorkspace(input, async (ws) => {
    const cell = await registerCell(ws, {
      name: input.args.cell,
      template: input.opts.template,
      url: input.opts.url,
      dataUrl: input.opts.dataUrl,
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

export async function unregister(input: InputOf<typeof cellsUnregister>): Promise<void> {
  await withWorkspace(input, async (ws) => {
    const cell = await requireCell(ws, input.args.cell);
    await unregisterCell(ws, cell);
    await ws.plane.addEvent('cli', 'cell.unregistered', cell.id, `unregistered (was at ${cell.url})`);
    await notifyRouter(ws.home, ws.settings).catch(() => false);
    sayDone(`cell ${cell.id} unregistered; the cell at ${cell.url} and its data are untouched`);
  });
}
