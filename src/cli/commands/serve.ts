// cellctl serve: run one built-in cell app in the foreground from CELL_* variables, for testing a
// cell on its own. A missing CELL_DB file is created from the template first.
import fs from 'node:fs';
import path from 'node:path';
import { createCellDatabase } from '../../cell/datadb.js';
import { startCell } from '../../cell/runtime.js';
import { usageError } from '../../shared/errors.js';
import { processLogger } from '../../shared/log.js';
import { checkCellName, parsePort } from '../../shared/names.js';
import { BUILTIN_TEMPLATES_DIR, findTemplate, readTemplateSql } from '../../templates/catalog.js';
import type { CommandInput } from '../context.js';
import { say } from '../output.js';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw usageError(`${name} is not set: serve reads CELL_ID, PORT, CELL_DB and CELL_HOME from the environment`);
  return value;
}

export async function run(input: CommandInput): Promise<void> {
  const cellId = checkCellName(env('CELL_ID'));
  const port = parsePort(env('PORT'), 'PORT');
  const dbFile = path.resolve(env('CELL_DB'));
  env('CELL_HOME');
  const template = findTemplate(String(input.opts.template), [BUILTIN_TEMPLATES_DIR]);
  if (!('app' in template.run)) throw usageError(`template ${template.name} runs its own command; run that command directly`);
  if (!fs.existsSync(dbFile)) createCellDatabase(dbFile, readTemplateSql(template), template.schema.version);
  const cell = await startCell({
    cellId,
    port,
    host: process.env.CELL_HOST ?? '127.0.0.1',
    dbFile,
    app: template.run.app,
    schemaVersion: template.schema.version,
    log: processLogger('cell', { cell: cellId }),
    env: process.env,
  });
  say(`cell ${cellId} (${template.name}) serving on http://127.0.0.1:${cell.port}; Ctrl-C stops it`);
  await new Promise<void>((resolve) => {
    const stop = () => void cell.close().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
