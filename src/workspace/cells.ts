// Provisioning: making a cell (folder, cell.json, data.db, control row) and removing one. Either the
// whole cell exists afterwards or nothing of it does.
import fs from 'node:fs';
import { createCellDatabase } from '../cell/datadb.js';
import type { CellRecord } from '../control/plane.js';
import { failure, usageError } from '../shared/errors.js';
import { checkCellName } from '../shared/names.js';
import { isPortFree, nextFreePort } from '../shared/ports.js';
import { findTemplate, readTemplateSql, templateSearchPath } from '../templates/catalog.js';
import type { Template } from '../templates/template.js';
import { checkContainerTemplate, CONTAINER_CELL_PORT, CONTAINER_DATA_PORT, DockerRuntime, freeCellAddress } from './containers.js';
import { engineRuntime } from './engines.js';
import { publishSettings, SwarmRuntime } from './swarm.js';
import { cellPaths } from './paths.js';
import { createCellToken, removeCellToken } from './secrets.js';
import { updateSettings, type Workspace } from './workspace.js';

export interface CellRequest {
  name: string;
  template: string;
  port?: number;
  capacity?: number;
  /** Runtime swarm: the node (id or cellctl.node label). */
  node?: string;
}

/** What cell.json holds: the cell's configuration, the same fields as its control.db row. */
export type CellDescriptor = Omit<CellRecord, 'createdAt' | 'status' | 'firstHealthyAt'>;

export function templatesOf(ws: Workspace): string[] {
  return templateSearchPath(ws.home, ws.settings.templatePaths);
}

export function loadCellTemplate(ws: Workspace, name: string): Template {
  return findTemplate(name, templatesOf(ws));
}

/** Checks everything before any file is written, then provisions. */
export async function createCell(ws: Workspace, request: CellRequest): Promise<CellRecord> {
  const name = checkCellName(request.name);
  if (await ws.plane.getCell(name)) throw usageError(`cell "${name}" already exists: choose another name or "cellctl delete ${name}" first`);
  const paths = cellPaths(ws.home, name);
  if (fs.existsSync(paths.dir)) {
    throw failure(`${paths.dir} exists but is not a registered cell: move it away or choose another name`);
  }
  const template = loadCellTemplate(ws, request.template);
  const cells = await ws.plane.listCells();
  const engine = engineRuntime(ws);
  if (engine) checkContainerTemplate(template);
  const node = engine instanceof SwarmRuntime ? await engine.chooseNode(request.node, cells) : null;
  const { port, dataPort, address } =
    engine instanceof DockerRuntime
      ? containerPlace(request, engine, cells)
      : node
        ? swarmPlace(ws, request, cells, node.address)
        : await localPlace(ws, request, cells);
  const capacity = request.capacity ?? template.capacity;
  const sql = readTemplateSql(template);

  fs.mkdirSync(paths.logsDir, { recursive: true });
  let inserted = false;
  let made = false;
  try {
    // A container makes its own data.db in its volume at its first start.
    if (!engine) createCellDatabase(paths.dataDb, sql, template.schema.version);
    const descriptor: CellDescriptor = {
      id: name,
      template: template.name,
      templateDir: template.dir,
      schemaVersion: template.schema.version,
      port,
      capacity,
      healthPath: template.healthPath,
      url: `http://${address}:${port}`,
      dataUrl: `http://${address}:${dataPort}`,
      dataPort,
      managed: true,
    };
    fs.writeFileSync(paths.descriptor, JSON.stringify(descriptor, null, 2) + '\n');
    createCellToken(ws.home, name);
    const record = await ws.plane.insertCell(descriptor);
    inserted = true;
    if (engine instanceof DockerRuntime) await engine.createCell(record);
    if (engine instanceof SwarmRuntime) await engine.createCell(record, node!);
    made = engine !== null;
    // A workspace made without a placement template takes its first cell's.
    if (ws.settings.placementTemplate === null) {
      ws.settings = updateSettings(ws.home, (raw) => (raw.placementTemplate = template.name));
      if (engine instanceof SwarmRuntime) await publishSettings(ws.plane, ws.settings);
    }
    return record;
  } catch (error) {
    if (made) await engine!.removeCell(name).catch(() => {});
    if (inserted) await ws.plane.deleteCell(name).catch(() => {});
    fs.rmSync(paths.dir, { recursive: true, force: true });
    removeCellToken(ws.home, name);
    throw error;
  }
}

interface Place {
  port: number;
  dataPort: number;
  address: string;
}

/** A local cell: free ports on this machine, on 127.0.0.1 (its data API too, src/data/protocol.ts). */
async function localPlace(ws: Workspace, request: CellRequest, cells: readonly CellRecord[]): Promise<Place> {
  const reserved = new Set([ws.settings.routerPort, ws.settings.routerAdminPort, ...cells.flatMap(localPorts)]);
  const port = await choosePort(request.port, reserved, ws.settings.cellPortBase, cells);
  const dataPort = await nextFreePort(port + 1, new Set([...reserved, port]));
  return { port, dataPort, address: '127.0.0.1' };
}

/** A cell container: an address of its own on the workspace's network, the same ports as every cell. */
function containerPlace(request: CellRequest, docker: DockerRuntime, cells: readonly CellRecord[]): Place {
  const port = request.port ?? CONTAINER_CELL_PORT;
  const dataPort = port === CONTAINER_DATA_PORT ? CONTAINER_CELL_PORT : CONTAINER_DATA_PORT;
  return { port, dataPort, address: freeCellAddress(docker.docker, cells) };
}

/**
 * A swarm cell: its node's address, and ports no other cell of the workspace (nor the routers)
 * holds, as cells share nodes and publish in host mode there. Whether another program holds them
 * on that node shows when the task starts (status says "host-mode port already in use").
 */
function swarmPlace(ws: Workspace, request: CellRequest, cells: readonly CellRecord[], address: string): Place {
  const taken = new Set([
    ws.settings.routerPort,
    ws.settings.routerAdminPort,
    ...cells.flatMap((cell) => [cell.port, ...(cell.dataPort === null ? [] : [cell.dataPort])]),
  ]);
  if (request.port !== undefined && taken.has(request.port))
    throw usageError(`port ${request.port} is already taken in this workspace: choose another --port or leave it out`);
  let port = request.port ?? ws.settings.cellPortBase;
  while (taken.has(port)) port += 1;
  let dataPort = port + 1;
  while (taken.has(dataPort)) dataPort += 1;
  if (dataPort > 65535) throw usageError('no port is left above cellPortBase for a new cell: delete a cell, or lower cellPortBase');
  return { port, dataPort, address };
}

/** The ports a local cell holds on this machine. */
const localPorts = (cell: CellRecord): number[] => (cell.managed ? [cell.port, ...(cell.dataPort === null ? [] : [cell.dataPort])] : []);

async function choosePort(requested: number | undefined, reserved: ReadonlySet<number>, base: number, cells: readonly CellRecord[]): Promise<number> {
  if (requested === undefined) return nextFreePort(base, reserved);
  const owner = cells.find((cell) => localPorts(cell).includes(requested));
  if (owner) throw usageError(`port ${requested} is already taken by cell "${owner.id}": choose another --port or leave it out`);
  if (reserved.has(requested)) throw usageError(`port ${requested} is the router's: choose another --port`);
  if (!(await isPortFree(requested))) {
    throw usageError(`port ${requested} is already in use by another program: choose another --port or leave it out`);
  }
  return requested;
}

/** Removes a cell's row, mapping rows and folder (and on docker its container and volume). The caller has checked that it may. */
export async function removeCell(ws: Workspace, name: string): Promise<{ customersUnmapped: number; leftover: string | null }> {
  const leftover = (await engineRuntime(ws)?.removeCell(name)) ?? null;
  const customersUnmapped = await ws.plane.deleteCell(name);
  fs.rmSync(cellPaths(ws.home, name).dir, { recursive: true, force: true });
  removeCellToken(ws.home, name);
  return { customersUnmapped, leftover };
}

export async function requireCell(ws: Workspace, name: string): Promise<CellRecord> {
  const cell = await ws.plane.getCell(name);
  if (!cell) {
    const known = (await ws.plane.listCells()).map((c) => c.id);
    // Not found is exit 1 everywhere (a cell, a customer, a migration), as kubectl has it.
    throw failure(`no cell named "${name}" (cells: ${known.join(', ') || 'none'}); "cellctl list" shows them`);
  }
  return cell;
}
