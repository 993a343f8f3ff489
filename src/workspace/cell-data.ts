// Reaching a cell's rows: its data API at the URL the control store holds, with its token from
// secrets/. Every user of a cell's rows (moves, audit, customers show) comes through here.
//
// The same-host shortcut: a cell this workspace runs but whose process is not up (the system is
// stopped, or the cell is) has its data API served from this process, over its data.db, on
// 127.0.0.1 — the same protocol over real HTTP, so a move works the same with the system down.
import { ALL, type CellRecord } from '../control/plane.js';
import { DataApiError, DataApiUnreachable, HttpDataApi } from '../data/client.js';
import { DATA_API_VERSION, type DataApi } from '../data/protocol.js';
import { startDataApi } from '../data/server.js';
import { parseDataTables } from '../data/tables.js';
import { describeError, failure, isCellctlError } from '../shared/errors.js';
import { loadTemplate } from '../templates/catalog.js';
import { cellPaths } from './paths.js';
import { readCellToken } from './secrets.js';
import type { Workspace } from './workspace.js';

export interface CellData {
  api: DataApi;
  /** The highest fencing number the cell has seen (its GET /info). */
  fencing: number;
  /** The data API version it speaks (its GET /info): a mover needs this cellctl's (requireCurrentApi). */
  version: unknown;
  /** `served`: the cell's own process answers; `local`: this process serves its data.db (the cell is down). */
  via: 'served' | 'local';
  close(): Promise<void>;
}

/** How long the first question to a cell's data API may take before the cell counts as down. */
const PROBE_MS = 2_000;

/** The data API of a cell; close it when done. */
export async function openCellData(ws: Workspace, cell: CellRecord): Promise<CellData> {
  const token = readCellToken(ws.home, cell.id);
  const probe = new HttpDataApi(cell.id, cell.dataUrl, token, { timeoutMs: PROBE_MS });
  try {
    const info = await probe.info();
    if (info.cell_id !== cell.id)
      throw failure(`the data API at ${cell.dataUrl} answers as cell "${info.cell_id}", not ${cell.id}: fix the cell's data URL`, 'E_DATA_API');
    const api = new HttpDataApi(cell.id, cell.dataUrl, token);
    return { api, fencing: info.fencing ?? 0, version: info.api, via: 'served', close: async () => api.close() };
  } catch (error) {
    if (!(error instanceof DataApiUnreachable) || !cell.managed) throw error;
    // A container's data is in a volume of the engine's, which this process cannot open.
    if (ws.settings.runtime !== 'local')
      throw failure(`cell ${cell.id}'s data API at ${cell.dataUrl} does not answer: start the cell ("cellctl start ${cell.id}") and try again`, 'E_DATA_API');
  } finally {
    probe.close();
  }
  return serveLocally(ws, cell, token);
}

/**
 * Refuses a cell whose data API is of another version than this cellctl's, for a command that
 * changes rows (a mover relies on tombstones an older cell does not keep). Reading commands (audit,
 * customers show) go on with it, as in a rolling upgrade.
 */
export function requireCurrentApi(cell: CellRecord, version: unknown): void {
  if (version !== DATA_API_VERSION) throw failure(olderDataApi(cell, version), 'E_DATA_API');
}

/** A data API that answers with another version than this cellctl's: the cell runs an older (or newer) cellctl. */
function olderDataApi(cell: CellRecord, api: unknown): string {
  const restart = cell.managed ? `"cellctl restart ${cell.id}"` : `restart its "cellctl cell-agent" with this cellctl`;
  return `cell ${cell.id}'s data API speaks version ${JSON.stringify(api)}, this cellctl needs version ${DATA_API_VERSION} (a move must not rely on what an older cell cannot do): ${restart}, then try again`;
}

/** Whether an error is SQLite's own (better-sqlite3's SqliteError: a damaged, locked or unreadable file). */
const isSqliteError = (error: unknown): boolean => String((error as { code?: unknown }).code ?? '').startsWith('SQLITE_');

async function serveLocally(ws: Workspace, cell: CellRecord, token: string): Promise<CellData> {
  const tables = parseDataTables(loadTemplate(cell.templateDir).customerTables, `template of cell ${cell.id}`);
  const dbFile = cellPaths(ws.home, cell.id).dataDb;
  const local = await startDataApi({ dbFile, cellId: cell.id, tables, token, host: '127.0.0.1', port: 0 }).catch((error: unknown) => {
    if (!isSqliteError(error)) throw error;
    throw failure(
      `cell ${cell.id}'s database ${dbFile} cannot be read (${describeError(error)}): restore it from a backup, or "cellctl delete ${cell.id}" if it held nothing to keep`,
      'E_DATA_API',
    );
  });
  const api = new HttpDataApi(cell.id, `http://127.0.0.1:${local.port}`, token);
  return {
    api,
    fencing: local.service.info().fencing,
    version: DATA_API_VERSION,
    via: 'local',
    close: async () => {
      api.close();
      await local.close();
    },
  };
}

/** A cell that has seen a fencing number the control plane has not issued, and what the plane has issued. */
export interface PlaneBehind {
  cellId: string;
  fencing: number;
  issued: number;
}

/**
 * The cell that has seen the highest fencing number, when that is above what the plane has issued.
 * The cells are read before the plane, so a number issued meanwhile cannot look like one the plane never issued.
 */
async function aheadOfPlane(ws: Workspace, seen: readonly { cellId: string; fencing: number }[]): Promise<PlaneBehind | null> {
  const top = seen.reduce<{ cellId: string; fencing: number } | null>((best, cell) => (best === null || cell.fencing > best.fencing ? cell : best), null);
  if (top === null || top.fencing === 0) return null;
  const issued = await ws.plane.fencingIssued();
  return top.fencing > issued ? { ...top, issued } : null;
}

/**
 * Refuses to act while the control plane is behind these cells: a cell has seen a fencing number the
 * plane has not issued (control.db restored from a backup, or a barrier set by hand), so every number
 * the plane hands out now would be refused, and its mapping may not say where the rows are.
 */
export async function checkPlaneNotBehind(ws: Workspace, opened: readonly { cellId: string; fencing: number }[]): Promise<void> {
  const behind = await aheadOfPlane(ws, opened);
  if (behind) throw failure(planeBehindMessage(behind), 'E_CONTROL_BEHIND');
}

/**
 * Whether the control plane is behind any cell (for health): each cell's data API is asked for the
 * highest fencing number it has seen (1 s each, in parallel; one that does not answer is passed over).
 */
export async function planeBehindCells(ws: Workspace): Promise<PlaneBehind | null> {
  const cells = await ws.plane.listCells();
  const seen = await Promise.all(
    cells.map(async (cell) => {
      const api = new HttpDataApi(cell.id, cell.dataUrl, readCellToken(ws.home, cell.id), { timeoutMs: 1_000 });
      try {
        return { cellId: cell.id, fencing: (await api.info()).fencing ?? 0 };
      } catch {
        return { cellId: cell.id, fencing: 0 };
      } finally {
        api.close();
      }
    }),
  );
  return aheadOfPlane(ws, seen);
}

const planeBehindMessage = ({ cellId, fencing, issued }: PlaneBehind): string =>
  `the control plane is behind its cells: ${cellId} has seen fencing number ${fencing}, the control plane has issued only up to ${issued} (was it restored from a backup?); nothing was changed: run "cellctl repair" (--dry-run shows what it would do)`;

/** Runs `work` with a cell's data API and closes it afterwards. */
export async function withCellData<T>(ws: Workspace, cell: CellRecord, work: (api: DataApi) => Promise<T>): Promise<T> {
  const data = await openCellData(ws, cell);
  try {
    return await work(data.api);
  } finally {
    await data.close();
  }
}

/** A cell whose rows could not be read, and why (the reason names the cell and what to do). */
export interface UnreadableCell {
  cell: string;
  reason: string;
}

/**
 * Why reading a cell failed, when it is the cell's state and not a bug here: it does not answer,
 * answers an error, or its database cannot be opened. Null for anything else.
 */
function whyUnreadable(error: unknown): string | null {
  if (error instanceof DataApiUnreachable || error instanceof DataApiError || isCellctlError(error) || isSqliteError(error)) return describeError(error);
  return null;
}

/**
 * `read` of every cell, each through its data API, in parallel. A cell that cannot be read is named
 * with why, and the others are still read: one damaged cell does not hide the rest.
 */
export async function readEveryCell<T>(
  ws: Workspace,
  cells: readonly CellRecord[],
  read: (api: DataApi) => Promise<T>,
): Promise<{ read: Map<string, T>; unreadable: UnreadableCell[] }> {
  const found = new Map<string, T>();
  const unreadable: UnreadableCell[] = [];
  const results = await Promise.all(
    cells.map(async (cell): Promise<{ value: T } | { reason: string }> => {
      try {
        return { value: await withCellData(ws, cell, read) };
      } catch (error) {
        const reason = whyUnreadable(error);
        if (reason === null) throw error;
        return { reason };
      }
    }),
  );
  cells.forEach((cell, index) => {
    const result = results[index]!;
    if ('reason' in result) unreadable.push({ cell: cell.id, reason: result.reason });
    else found.set(cell.id, result.value);
  });
  return { read: found, unreadable };
}

/** A customer's rows per table in every cell that has any (through each cell's data API), and the cells that could not be read. */
export async function customerRowsByCell(
  ws: Workspace,
  customerId: string,
): Promise<{ rows: Record<string, Record<string, number>>; unreadable: UnreadableCell[] }> {
  const { read, unreadable } = await readEveryCell(ws, await ws.plane.listCells(), (api) => api.summary([customerId]));
  const rows: Record<string, Record<string, number>> = {};
  for (const [cell, summary] of read) {
    const counts = Object.fromEntries(summary.tables.map((table) => [table.table, table.rows]));
    if (Object.values(counts).some((n) => n > 0)) rows[cell] = counts;
  }
  return { rows, unreadable };
}

/**
 * The control plane placed customers in these cells (assign) or nowhere (unassign, a cell deleted
 * with them): their tombstones there go, so their next writes land. Best effort: returns the cells
 * that could not be reached, whose tombstones stay until a move brings the customers there. The
 * fencing number is drawn first, so a move that starts meanwhile outranks this; a customer being
 * moved is left to its move.
 */
export async function dropTombstones(ws: Workspace, customerIds: readonly string[], cells: readonly CellRecord[]): Promise<string[]> {
  const fencing = await ws.plane.newFencing();
  const moving = new Set((await ws.plane.listMigrations({ state: 'running', limit: ALL })).map((m) => m.customerId));
  const placed = new Set(customerIds.filter((id) => !moving.has(id)));
  const missed: string[] = [];
  for (const cell of cells) {
    try {
      const { tombstones } = await withCellData(ws, cell, (api) => api.barriers());
      const buried = (tombstones ?? []).map((entry) => entry.customer).filter((id) => placed.has(id));
      for (let at = 0; at < buried.length; at += UNBAR_BATCH) {
        const customers = buried.slice(at, at + UNBAR_BATCH);
        await withCellData(ws, cell, (api) => api.unbar({ move: fencing, fencing, customers }));
      }
    } catch {
      missed.push(cell.id);
    }
  }
  return missed;
}

/** Customers per unbar request (the data API takes up to 10,000). */
const UNBAR_BATCH = 5_000;
