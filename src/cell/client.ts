// How cellctl asks a cell about itself: its health and its metrics, over plain HTTP at the cell's URL.
import axios from 'axios';
import { type HealthCheck, WRITES_CHECK } from '../shared/health.js';

export interface CellHealth {
  healthy: boolean;
  status: number | null;
  checks: HealthCheck[];
  error: string | null;
}

/**
 * A cell's checks in any of the shapes cells answer: the e-commerce example's object of
 * `name: "healthy" | "unhealthy: why"`, the beginner's single `database` field (with cellctl's
 * write probe beside it), or a list of `{name, ok}`.
 */
function readChecks(data: unknown): CellHealth['checks'] {
  const body = (data ?? {}) as Record<string, unknown>;
  if (Array.isArray(body.checks)) return body.checks as CellHealth['checks'];
  const beginner = Object.fromEntries(['database', WRITES_CHECK].filter((name) => typeof body[name] === 'string').map((name) => [name, body[name]]));
  const named = body.checks && typeof body.checks === 'object' ? (body.checks as Record<string, unknown>) : beginner;
  return Object.entries(named).map(([name, value]) => ({ name, ok: value === 'healthy', ...(value === 'healthy' ? {} : { detail: String(value) }) }));
}

/** A cell's URL (`http://host:port`, control.db's `url`), or the port of a cell on 127.0.0.1. */
export type CellBase = string | number;

const baseOf = (cell: CellBase): string => (typeof cell === 'number' ? `http://127.0.0.1:${cell}` : cell.replace(/\/$/, ''));

export function probeCellHealth(cell: CellBase, healthPath: string, timeoutMs = 1_500): Promise<CellHealth> {
  return probeHealth(`${baseOf(cell)}${healthPath}`, timeoutMs);
}

/** The one health probe (status, moves, the supervisor): healthy means a 200 within `timeoutMs`. */
export async function probeHealth(url: string, timeoutMs = 1_500): Promise<CellHealth> {
  try {
    const response = await axios.get(url, { timeout: timeoutMs, validateStatus: () => true });
    const checks = readChecks(response.data);
    return { healthy: response.status === 200, status: response.status, checks, error: response.status === 200 ? null : `answered ${response.status}` };
  } catch (error) {
    return { healthy: false, status: null, checks: [], error: error instanceof Error ? error.message : String(error) };
  }
}

export async function fetchCellMetrics(cell: CellBase, timeoutMs = 2_000): Promise<Record<string, unknown> | null> {
  try {
    const response = await axios.get(`${baseOf(cell)}/metrics`, { timeout: timeoutMs });
    return response.data as Record<string, unknown>;
  } catch {
    return null;
  }
}

export async function fetchCellPrometheus(cell: CellBase, timeoutMs = 2_000): Promise<string | null> {
  try {
    const response = await axios.get<string>(`${baseOf(cell)}/metrics?format=prometheus`, { timeout: timeoutMs, responseType: 'text' });
    return response.data;
  } catch {
    return null;
  }
}
