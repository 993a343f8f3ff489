// How cellctl asks a cell about itself: its health and its metrics, over plain HTTP on 127.0.0.1.
import axios from 'axios';

export interface CellHealth {
  healthy: boolean;
  status: number | null;
  checks: { name: string; ok: boolean; detail?: string }[];
  error: string | null;
}

export async function probeCellHealth(port: number, healthPath: string, timeoutMs = 1_500): Promise<CellHealth> {
  try {
    const response = await axios.get(`http://127.0.0.1:${port}${healthPath}`, { timeout: timeoutMs, validateStatus: () => true });
    const checks = Array.isArray(response.data?.checks) ? response.data.checks : [];
    return { healthy: response.status === 200, status: response.status, checks, error: response.status === 200 ? null : `answered ${response.status}` };
  } catch (error) {
    return { healthy: false, status: null, checks: [], error: error instanceof Error ? error.message : String(error) };
  }
}

export async function fetchCellMetrics(port: number, timeoutMs = 2_000): Promise<Record<string, unknown> | null> {
  try {
    const response = await axios.get(`http://127.0.0.1:${port}/metrics`, { timeout: timeoutMs });
    return response.data as Record<string, unknown>;
  } catch {
    return null;
  }
}

export async function fetchCellPrometheus(port: number, timeoutMs = 2_000): Promise<string | null> {
  try {
    const response = await axios.get<string>(`http://127.0.0.1:${port}/metrics?format=prometheus`, { timeout: timeoutMs, responseType: 'text' });
    return response.data;
  } catch {
    return null;
  }
}
