// How a built-in cell learns to serve its data API: DATA_PORT, CELL_DATA_HOST (default 127.0.0.1),
// CELL_DATA_TOKEN_FILE and CELL_CUSTOMER_TABLES (the template's customerTables, JSON). No DATA_PORT:
// no data API.
import { readDataToken } from '../data/server.js';
import { parseDataTables } from '../data/tables.js';
import { failure } from '../shared/errors.js';
import { parsePort } from '../shared/names.js';
import type { CellDataApi } from './runtime.js';

export function dataApiFromEnv(env: NodeJS.ProcessEnv): CellDataApi | null {
  if (!env.DATA_PORT) return null;
  const port = parsePort(env.DATA_PORT, 'DATA_PORT');
  if (!env.CELL_DATA_TOKEN_FILE) throw failure('DATA_PORT is set but CELL_DATA_TOKEN_FILE is not: name the file that holds the data API token');
  if (!env.CELL_CUSTOMER_TABLES) throw failure("DATA_PORT is set but CELL_CUSTOMER_TABLES is not: pass the template's customerTables as JSON");
  let tables: unknown;
  try {
    tables = JSON.parse(env.CELL_CUSTOMER_TABLES);
  } catch {
    throw failure("CELL_CUSTOMER_TABLES is not valid JSON: pass the template's customerTables array");
  }
  return {
    host: env.CELL_DATA_HOST ?? '127.0.0.1',
    port,
    token: readDataToken(env.CELL_DATA_TOKEN_FILE),
    tables: parseDataTables(tables, 'CELL_CUSTOMER_TABLES'),
  };
}
