// cellctl serve: run one built-in cell app in the foreground from CELL_* variables, for testing a
// cell on its own or running it on another host. A missing CELL_DB file is created from the template
// first. With --data-port it also serves the cell's data API (src/data), as the supervisor's cells do.
import fs from 'node:fs';
import path from 'node:path';
import { createCellDatabase } from '../../cell/datadb.js';
import { type CellDataApi, startCell } from '../../cell/runtime.js';
import { readDataToken } from '../../data/server.js';
import { parseDataTables } from '../../data/tables.js';
import { isPostgresUrl, openControlPlane } from '../../control/open.js';
import { failure, usageError } from '../../shared/errors.js';
import { processLogger } from '../../shared/log.js';
import { checkCellName, parsePort } from '../../shared/names.js';
import { BUILTIN_TEMPLATES_DIR, findTemplate, readTemplateSql } from '../../templates/catalog.js';
import type { Template } from '../../templates/template.js';
import { say } from '../output.js';
import type { InputOf } from '../define.js';
import type { serve } from '../commands/serve.js';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw usageError(`${name} is not set: serve reads CELL_ID, PORT, CELL_DB and CELL_HOME from the environment`);
  return value;
}

type Input = InputOf<typeof serve>;

function dataApiOptions(input: Input, template: Template): CellDataApi | null {
  const { dataPort: port, tokenFile } = input.opts;
  if (port === undefined) {
    if (tokenFile !== undefined) throw usageError('--token-file is for the data API: add --data-port');
    return null;
  }
  if (tokenFile === undefined) throw usageError('--data-port needs --token-file, the file that holds the data API token');
  return {
    host: input.opts.dataHost ?? '127.0.0.1',
    port: parsePort(port, '--data-port'),
    token: readDataToken(tokenFile),
    tables: parseDataTables(template.customerTables, `template ${template.name}`),
  };
}

interface Registration {
  url: string;
  dataUrl: string;
  controlUrl: string;
}

/** --register-url and its companions, checked before anything starts. */
function registrationOptions(input: Input, data: CellDataApi | null): Registration | null {
  const { registerUrl, registerDataUrl, controlUrlFile } = input.opts;
  if (registerUrl === undefined) {
    if (registerDataUrl !== undefined || controlUrlFile !== undefined) throw usageError('--register-data-url and --control-url-file go with --register-url');
    return null;
  }
  if (!data || registerDataUrl === undefined || controlUrlFile === undefined) {
    throw usageError('--register-url needs --data-port (the data API movers reach), --register-data-url and --control-url-file');
  }
  for (const [flag, url] of [
    ['--register-url', registerUrl],
    ['--register-data-url', registerDataUrl],
  ] as const) {
    if (!/^http:\/\/[^/\s:]+:\d+\/?$/.test(url)) throw usageError(`${flag} takes http://HOST:PORT (the address others reach this cell at), not "${url}"`);
  }
  let controlUrl: string;
  try {
    controlUrl = fs.readFileSync(controlUrlFile, 'utf8').trim();
  } catch (error) {
    throw usageError(
      `cannot read --control-url-file ${controlUrlFile} (${(error as NodeJS.ErrnoException).code}): give the file that holds the PostgreSQL URL`,
    );
  }
  if (!isPostgresUrl(controlUrl))
    throw usageError(`--control-url-file ${controlUrlFile} does not hold a postgres:// URL: a cell registers itself in a PostgreSQL control plane`);
  return { url: registerUrl.replace(/\/$/, ''), dataUrl: registerDataUrl.replace(/\/$/, ''), controlUrl };
}

/** Records where this cell answers in its row of the control plane (which `create` made). */
async function registerCell(cellId: string, template: string, registration: Registration): Promise<void> {
  const plane = await openControlPlane(registration.controlUrl, { postgres: { connectTimeoutMs: 10_000, poolSize: 1 } });
  try {
    const row = await plane.getCell(cellId);
    if (!row)
      throw failure(`cell ${cellId} is not in the control plane at ${plane.where}: create it there first ("cellctl create ${cellId} --template ${template}")`);
    if (row.template !== template)
      throw failure(`cell ${cellId} is a ${row.template} cell in the control plane, not ${template}: run it with --template ${row.template}`);
    await plane.setCellAddress(cellId, registration.url, registration.dataUrl);
  } finally {
    await plane.close();
  }
}

export async function run(input: Input): Promise<void> {
  const cellId = checkCellName(env('CELL_ID'));
  const port = parsePort(env('PORT'), 'PORT');
  const dbFile = path.resolve(env('CELL_DB'));
  env('CELL_HOME');
  const template = findTemplate(input.opts.template ?? '', [BUILTIN_TEMPLATES_DIR]);
  if (!('app' in template.run)) throw usageError(`template ${template.name} runs its own command; run that command directly`);
  const data = dataApiOptions(input, template);
  const registration = registrationOptions(input, data);
  const made = !fs.existsSync(dbFile);
  if (made) createCellDatabase(dbFile, readTemplateSql(template), template.schema.version);
  const host = process.env.CELL_HOST ?? '127.0.0.1';
  const cell = await startCell({
    cellId,
    port,
    host,
    dbFile,
    app: template.run.app,
    schemaVersion: template.schema.version,
    log: processLogger('cell', { cell: cellId }),
    env: process.env,
    data,
  }).catch((error: unknown) => {
    // A cell that could not start (a port in use) leaves no database it made behind.
    if (made) for (const file of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) fs.rmSync(file, { force: true });
    throw error;
  });
  if (registration) {
    await registerCell(cellId, template.name, registration).catch(async (error: unknown) => {
      await cell.close();
      throw error;
    });
  }
  const dataNote = data ? `, data API on http://${data.host}:${cell.dataPort}` : '';
  const registered = registration ? `; registered in the control plane at ${registration.url}` : '';
  say(`cell ${cellId} (${template.name}) serving on http://${host}:${cell.port}${dataNote}${registered}; Ctrl-C stops it`);
  await new Promise<void>((resolve) => {
    const stop = () => void cell.close().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
