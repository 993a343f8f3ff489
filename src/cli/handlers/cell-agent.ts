// cellctl cell-agent: the data API (src/data) beside a user's own app, for its SQLite file. It installs
// the write-barrier triggers on the template's customer tables when it starts (so the barrier holds
// whatever language the app is written in), and `--remove-triggers` takes them out again.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { removeBarrier } from '../../data/barrier.js';
import { readDataToken, startDataApi } from '../../data/server.js';
import { parseDataTables } from '../../data/tables.js';
import { failure, usageError } from '../../shared/errors.js';
import { processLogger } from '../../shared/log.js';
import { checkCellName, parsePort } from '../../shared/names.js';
import { BUILTIN_TEMPLATES_DIR, findTemplate, loadTemplate } from '../../templates/catalog.js';
import type { Template } from '../../templates/template.js';
import { say } from '../output.js';
import type { InputOf } from '../define.js';
import type { cellAgent } from '../commands/cell-agent.js';

/** A template folder (holding template.json), or the name of a built-in template. */
function templateOf(given: string): Template {
  const dir = path.resolve(given);
  if (fs.existsSync(path.join(dir, 'template.json'))) return loadTemplate(dir);
  return findTemplate(given, [BUILTIN_TEMPLATES_DIR]);
}

type Input = InputOf<typeof cellAgent>;

function required(input: Input, name: 'db' | 'template' | 'cellId' | 'port' | 'tokenFile', option: string): string {
  const value = input.opts[name];
  if (value === undefined) throw usageError(`cell-agent needs ${option}`);
  return value;
}

function existingDb(file: string): string {
  const resolved = path.resolve(file);
  if (!fs.existsSync(resolved)) throw failure(`database ${resolved} does not exist: pass the SQLite file the cell's app uses (--db)`);
  return resolved;
}

export async function run(input: Input): Promise<void> {
  const dbFile = existingDb(required(input, 'db', '--db FILE'));
  if (input.opts.removeTriggers) {
    const db = new Database(dbFile, { fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      say(`removed ${removeBarrier(db)} barrier triggers from ${dbFile}`);
    } finally {
      db.close();
    }
    return;
  }
  const template = templateOf(required(input, 'template', '--template NAME_OR_DIR'));
  const cellId = checkCellName(required(input, 'cellId', '--cell-id ID'));
  const port = parsePort(required(input, 'port', '--port N'), '--port');
  const token = readDataToken(required(input, 'tokenFile', '--token-file F'));
  const log = processLogger('cell-agent', { cell: cellId });
  const api = await startDataApi({
    host: input.opts.host ?? '127.0.0.1',
    port,
    dbFile,
    cellId,
    tables: parseDataTables(template.customerTables, `template ${template.name}`),
    token,
    onError: (error) => log.error({ err: error }, 'data API request failed'),
  });
  log.info({ port: api.port, db: dbFile }, 'cell agent listening');
  say(`data API of cell ${cellId} (${template.name}, ${dbFile}) on port ${api.port}; Ctrl-C stops it`);
  await new Promise<void>((resolve) => {
    const stop = () => void api.close().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
