// Reaching a cell's rows: its data API at the URL the control store holds, with its token from
// secrets/. Every user of a cell's rows (moves, audit, customers show) comes through here.
import type { CellRecord } from '../control/store.js';
import { HttpDataApi } from '../data/client.js';
import type { DataApi } from '../data/protocol.js';
import { readCellToken } from './secrets.js';
import type { Workspace } from './workspace.js';

export interface CellData {
  api: DataApi;
  close(): Promise<void>;
}

/** The data API of a cell; close it when done. */
export async function openCellData(ws: Workspace, cell: CellRecord): Promise<CellData> {
  const api = new HttpDataApi(cell.id, cell.dataUrl, readCellToken(ws.home, cell.id));
  return { api, close: async () => api.close() };
}

/** Runs `work` with a cell's data API and closes it afterwards. */
export async function withCellData<T>(ws: Workspace, cell: CellRecord, work: (api: DataApi) => Promise<T>): Promise<T> {
  const data = await openCellData(ws, cell);
  try {
    return await work(data.api);
  } finally {
    await data.close();
  }
}
