// cellctl templates: list the templates a workspace (or, without one, cellctl itself) can use.
import { BUILTIN_TEMPLATES_DIR, listTemplateDirs, loadTemplate, missingTemplateFolders, templateSearchPath } from '../../templates/catalog.js';
import { describeError } from '../../shared/errors.js';
import { isWorkspace, readSettings } from '../../workspace/workspace.js';
import { homeOf } from '../context.js';
import { printData } from '../formats.js';
import { printLine, renderTable, sayWarning } from '../output.js';
import type { InputOf } from '../define.js';
import type { templates } from '../commands/templates.js';

interface TemplateRow {
  name: string;
  description: string;
  run: string;
  schemaVersion: number | null;
  capacity: number | null;
  customerTables: string[];
  referenceTables: string[];
  dir: string;
  error: string | null;
}

export function run(input: InputOf<typeof templates>): void {
  const home = homeOf(input);
  const searchPath = isWorkspace(home) ? templateSearchPath(home, readSettings(home).templatePaths) : [BUILTIN_TEMPLATES_DIR];
  for (const dir of missingTemplateFolders(searchPath)) sayWarning(`templatePaths names ${dir}, which does not exist`);
  const rows: TemplateRow[] = [...listTemplateDirs(searchPath)].sort(([a], [b]) => a.localeCompare(b)).map(([name, dir]) => describe(name, dir));
  const { output } = input.opts;
  if (printData(output, rows)) return;
  printLine(
    renderTable(
      ['template', 'runs', 'schema', 'capacity', 'customer tables', 'description'],
      rows.map((row) =>
        row.error
          ? [row.name, '-', '-', '-', '-', `INVALID: ${row.error}`]
          : [row.name, row.run, `v${row.schemaVersion}`, row.capacity ?? '-', row.customerTables.join(', '), row.description],
      ),
      { wide: output === 'wide' },
    ),
  );
}

function describe(name: string, dir: string): TemplateRow {
  try {
    const template = loadTemplate(dir);
    return {
      name,
      description: template.description,
      run: 'app' in template.run ? `built-in app "${template.run.app}"` : template.run.command.join(' '),
      schemaVersion: template.schema.version,
      capacity: template.capacity,
      customerTables: template.customerTables.map((table) => table.table),
      referenceTables: template.referenceTables,
      dir,
      error: null,
    };
  } catch (error) {
    return { name, description: '', run: '', schemaVersion: null, capacity: null, customerTables: [], referenceTables: [], dir, error: describeError(error) };
  }
}
