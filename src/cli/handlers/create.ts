// cellctl create: provision a cell from a template. Missing arguments are asked for on a terminal.
import { listTemplateDirs, loadTemplate, missingTemplateFolders } from '../../templates/catalog.js';
import { describeError, failure, usageError } from '../../shared/errors.js';
import type { Workspace } from '../../workspace/workspace.js';
import { CELL_NAME } from '../../shared/names.js';
import { createCell, templatesOf } from '../../workspace/cells.js';
import { withWorkspace } from '../context.js';
import { printJson, say, sayDone, sayWarning } from '../output.js';
import { askChoice, askText, type Choice } from '../prompt.js';
import type { InputOf } from '../define.js';
import type { create } from '../commands/create.js';

export async function run(input: InputOf<typeof create>): Promise<void> {
  // Flags are checked (options.ts) before anything is asked or written.
  const { port, capacity, node } = input.opts;

  await withWorkspace(input, async (ws) => {
    const name =
      input.args.cell ??
      (await askText('Cell name', '<cell> argument', (value) => (CELL_NAME.test(value) ? true : 'lower-case letters, digits and "-", starting with a letter')));
    const template = input.opts.template ?? (await askTemplate(ws));
    for (const dir of missingTemplateFolders(templatesOf(ws))) sayWarning(`templatePaths names ${dir}, which does not exist`);
    if (node !== undefined && ws.settings.runtime !== 'swarm')
      throw usageError(`--node places a cell on a swarm node; this workspace's runtime is ${ws.settings.runtime}: leave it out`);
    const cell = await createCell(ws, { name, template, port, capacity, node });
    if (input.opts.json) return printJson(cell);
    const where = {
      local: `on port ${cell.port} (capacity ${cell.capacity})`,
      docker: `at ${cell.url} (a container; capacity ${cell.capacity})`,
      swarm: `at ${cell.url} (a service pinned to that node; capacity ${cell.capacity})`,
    }[ws.settings.runtime];
    sayDone(`cell ${cell.id} created from template ${cell.template} ${where}`);
    if (cell.template !== ws.settings.placementTemplate) {
      say(
        `new customers are placed only in ${ws.settings.placementTemplate} cells: ${cell.id} gets customers by "cellctl assign customer <id> --cell ${cell.id}" or a move (or: cellctl config set placementTemplate ${cell.template})`,
      );
    }
    say(`start it with: cellctl start ${cell.id}`);
  });
}

/** The templates to pick from: the invalid ones shown with why and not selectable; the placement template first in line. */
async function askTemplate(ws: Workspace): Promise<string> {
  const choices: Choice[] = [...listTemplateDirs(templatesOf(ws))]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, dir]) => {
      try {
        loadTemplate(dir);
        return { value: name };
      } catch (error) {
        return { value: name, unusable: `invalid: ${describeError(error)}` };
      }
    });
  if (!choices.some((choice) => choice.unusable === undefined))
    throw failure('no valid template to make a cell from: "cellctl templates" says what is wrong with each', 'E_TEMPLATE');
  return askChoice('Template', '--template', choices, ws.settings.placementTemplate ?? undefined);
}
