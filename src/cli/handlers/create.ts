// cellctl create: provision a cell from a template. Missing arguments are asked for on a terminal.
import { listTemplateDirs, missingTemplateFolders } from '../../templates/catalog.js';
import { CELL_NAME, checkCellName } from '../../shared/names.js';
import { createCell, templatesOf } from '../../workspace/cells.js';
import { withWorkspace } from '../context.js';
import { printJson, say, sayDone, sayWarning } from '../output.js';
import { askChoice, askText } from '../prompt.js';
import type { InputOf } from '../define.js';
import type { create } from '../commands/create.js';

export async function run(input: InputOf<typeof create>): Promise<void> {
  // Flags are checked (options.ts) before anything is asked or written.
  const { port, capacity } = input.opts;

  await withWorkspace(input, async (ws) => {
    const name =
      input.args.cell ??
      (await askText('Cell name', '<cell> argument', (value) => (CELL_NAME.test(value) ? true : 'lower-case letters, digits and "-", starting with a letter')));
    const template = input.opts.template ?? (await askChoice('Template', '--template', [...listTemplateDirs(templatesOf(ws)).keys()].sort()));
    for (const dir of missingTemplateFolders(templatesOf(ws))) sayWarning(`templatePaths names ${dir}, which does not exist`);
    const cell = await createCell(ws, { name, template, port, capacity });
    if (input.opts.json) return printJson(cell);
    const where =
      ws.settings.runtime === 'docker' ? `at ${cell.url} (a container; capacity ${cell.capacity})` : `on port ${cell.port} (capacity ${cell.capacity})`;
    sayDone(`cell ${cell.id} created from template ${cell.template} ${where}`);
    if (cell.template !== ws.settings.placementTemplate) {
      say(
        `new customers are placed only in ${ws.settings.placementTemplate} cells: ${cell.id} gets customers by "cellctl assign customer <id> --cell ${cell.id}" or a move (or: cellctl config set placementTemplate ${cell.template})`,
      );
    }
    say(`start it with: cellctl start ${cell.id}`);
  });
}
