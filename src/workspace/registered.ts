// Cells registered by URL: run by someone else (another host, an orchestrator), reached over HTTP.
// Registering checks everything before it writes; unregistering never touches the cell itself.
import { publishSettings } from './swarm.js';
import fs from 'node:fs';
import type { CellRecord } from '../control/plane.js';
import { describeError, failure, usageError } from '../shared/errors.js';
import { checkCellName } from '../shared/names.js';
import { type CellAddress, parseCellUrl } from '../shared/urls.js';
import type { Template } from '../templates/template.js';
import { DataApiError, DataApiUnreachable, HttpDataApi } from '../data/client.js';
import { DATA_API_PREFIX, DATA_API_VERSION, dataTokenProblem, type InfoAnswer } from '../data/protocol.js';
import { loadCellTemplate, type CellDescriptor } from './cells.js';
import { cellPaths } from './paths.js';
import { createCellToken, removeCellToken } from './secrets.js';
import { updateSettings, type Workspace } from './workspace.js';

export interface RegisterRequest {
  name: string;
  template: string;
  url: string;
  dataUrl: string;
  /** The file holding the token the cell's data API was started with. */
  tokenFile: string | undefined;
  capacity?: number;
  /** Register even when the data API does not answer now (it is checked whenever it answers). */
  noCheck?: boolean;
}

/** Reads the cell's data token from a file, or says what the file must hold. */
export function readTokenFile(file: string | undefined): string {
  if (file === undefined) {
    throw usageError(
      "--token-file is required: the file holding the token the cell's data API was started with (its --token-file), so that moves and audits can reach its data",
    );
  }
  let token: string;
  try {
    token = fs.readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw usageError(`cannot read --token-file ${file} (${describeError(error)}): give the file the cell's data API was started with`);
  }
  const problem = dataTokenProblem(token);
  if (problem) throw usageError(`the token in ${file} ${problem}`);
  return token;
}

/** What a data API's info answer must say for this cell; null when it fits, else why not. */
export function infoMismatch(info: Partial<InfoAnswer>, cellId: string, template: Pick<Template, 'name' | 'schema' | 'customerTables'>): string | null {
  if (info.api !== DATA_API_VERSION)
    return `it does not speak data API version ${DATA_API_VERSION} (api: ${JSON.stringify(info.api)}): run the same cellctl version on both sides`;
  if (info.cell_id !== cellId) return `it serves cell "${String(info.cell_id)}", not "${cellId}": register it under that name, or give the right --data-url`;
  if (info.schema_version !== template.schema.version) {
    return `its data has schema version ${String(info.schema_version)}, the template's is ${template.schema.version}: register it with the template it was made from`;
  }
  // The same schema version says little across templates: the customer tables must be the declared ones.
  const served = (info.tables ?? []).map((table) => table.table).sort();
  const declared = template.customerTables.map((table) => table.table).sort();
  if (info.tables !== undefined && served.join(',') !== declared.join(',')) {
    return `it serves the customer tables ${served.join(', ') || 'none'}, template ${template.name} declares ${declared.join(', ')}: register it with the template it was made from`;
  }
  return null;
}

type Probe = { kind: 'ok' } | { kind: 'unreachable'; why: string } | { kind: 'wrong'; why: string };

/** Asks the data API who it is (its client's info call). Unreachable is told apart from a wrong answer: only the latter is certain. */
async function probeDataApi(data: CellAddress, token: string, cellId: string, template: Template): Promise<Probe> {
  const api = new HttpDataApi(cellId, data.base, token, { timeoutMs: 3_000 });
  let info: Partial<InfoAnswer>;
  try {
    info = await api.info();
  } catch (error) {
    if (error instanceof DataApiUnreachable) return { kind: 'unreachable', why: error.reason };
    if (!(error instanceof DataApiError)) throw error;
    if (error.status === 401) return { kind: 'wrong', why: "it refused the token (401): give the --token-file the cell's data API was started with" };
    return { kind: 'wrong', why: `GET ${DATA_API_PREFIX}/info answered ${error.status}: is --data-url the data API's address?` };
  } finally {
    api.close();
  }
  const mismatch = infoMismatch(typeof info === 'object' && info !== null ? info : {}, cellId, template);
  return mismatch === null ? { kind: 'ok' } : { kind: 'wrong', why: mismatch };
}

async function checkUnique(ws: Workspace, name: string, url: CellAddress, data: CellAddress): Promise<void> {
  if (await ws.plane.getCell(name)) throw usageError(`cell "${name}" already exists: choose another name, or "cellctl cells unregister ${name}" first`);
  if (fs.existsSync(cellPaths(ws.home, name).dir))
    throw usageError(`${cellPaths(ws.home, name).dir} exists: a local cell's folder has that name; choose another name`);
  for (const other of await ws.plane.listCells()) {
    if (other.url === url.base) throw usageError(`cell "${other.id}" is already at ${url.base}: one address serves one cell`);
    if (other.dataUrl === data.base) throw usageError(`cell "${other.id}" already has its data API at ${data.base}: one data API serves one cell`);
  }
}

/** Checks the request whole (names, template, URLs, token, the data API's answer), then writes. */
export async function registerCell(ws: Workspace, request: RegisterRequest): Promise<CellRecord> {
  const name = checkCellName(request.name);
  const url = parseCellUrl(request.url, '--url');
  const data = parseCellUrl(request.dataUrl, '--data-url');
  const template: Template = loadCellTemplate(ws, request.template);
  const token = readTokenFile(request.tokenFile);
  await checkUnique(ws, name, url, data);
  const probe = await probeDataApi(data, token, name, template);
  if (probe.kind === 'wrong') throw failure(`the data API at ${data.base} does not fit cell ${name}: ${probe.why}`);
  if (probe.kind === 'unreachable' && !request.noCheck) {
    throw failure(
      `the data API at ${data.base} does not answer (${probe.why}): start the cell first, check --data-url, or pass --no-check to register it anyway`,
    );
  }
  const descriptor: CellDescriptor = {
    id: name,
    template: template.name,
    templateDir: template.dir,
    schemaVersion: template.schema.version,
    port: url.port,
    capacity: request.capacity ?? template.capacity,
    healthPath: template.healthPath,
    url: url.base,
    dataUrl: data.base,
    dataPort: null,
    managed: false,
  };
  createCellToken(ws.home, name, token);
  try {
    const record = await ws.plane.insertCell(descriptor);
    if (ws.settings.placementTemplate === null) {
      ws.settings = updateSettings(ws.home, (raw) => (raw.placementTemplate = template.name));
      if (ws.settings.runtime === 'swarm') await publishSettings(ws.plane, ws.settings);
    }
    return record;
  } catch (error) {
    removeCellToken(ws.home, name);
    throw error;
  }
}

/** Forgets a registered cell: its row and token. The cell and its data, elsewhere, are left alone. */
export async function unregisterCell(ws: Workspace, cell: CellRecord): Promise<void> {
  if (cell.managed) throw usageError(`cell ${cell.id} is run by this workspace, not registered: remove it with "cellctl delete ${cell.id}"`);
  const customers = (await ws.plane.customerCounts()).get(cell.id) ?? 0;
  if (customers > 0) {
    throw failure(`cell ${cell.id} holds ${customers} customer(s): move them first with "cellctl drain ${cell.id}" (their rows are in the cell, not here)`);
  }
  await ws.plane.deleteCell(cell.id);
  removeCellToken(ws.home, cell.id);
}
