// The router's admin API as cellctl calls it (127.0.0.1 only, bearer admin token).
import axios, { type AxiosInstance, isAxiosError } from 'axios';
import { readAdminToken } from '../workspace/secrets.js';
import type { Settings } from '../workspace/settings.js';

export interface RouterStats {
  pid: number;
  uptimeSeconds: number;
  mappingVersion: number;
  customersMapped: number;
  memoryRssBytes: number;
  cells: Record<string, { requests: number; errors: number; healthy: boolean | null; customers: number }>;
  fences: { customerId: string; held: number; leaseUntil: number }[];
  fenceHolds: { count: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null };
}

export class RouterAdmin {
  private readonly http: AxiosInstance;

  constructor(port: number, token: string, timeoutMs = 5_000) {
    this.http = axios.create({ baseURL: `http://127.0.0.1:${port}`, headers: { authorization: `Bearer ${token}` }, timeout: timeoutMs });
  }

  static forWorkspace(home: string, settings: Settings, timeoutMs?: number): RouterAdmin {
    return new RouterAdmin(settings.routerAdminPort, readAdminToken(home), timeoutMs);
  }

  async stats(): Promise<RouterStats> {
    return (await this.http.get<RouterStats>('/admin/stats')).data;
  }

  async metricsText(): Promise<string> {
    return (await this.http.get<string>('/admin/metrics', { responseType: 'text' })).data;
  }

  async reload(): Promise<void> {
    await this.http.post('/admin/reload');
  }

  async fence(customerIds: string[], fenceId: string, leaseMs: number): Promise<{ waitedMs: number }> {
    return (await this.http.post('/admin/fence', { customerIds, fenceId, leaseMs })).data;
  }

  /** Resolves true when the fence was held without a break (and extends it), false when it was lost. */
  async confirmFence(customerIds: string[], fenceId: string, leaseMs: number): Promise<boolean> {
    const response = await this.http.post('/admin/fence/confirm', { customerIds, fenceId, leaseMs }, { validateStatus: (status) => status === 200 || status === 409 });
    return response.status === 200;
  }

  /** Lifts fences; with `fenceId`, only fences that still carry that id (not one a later mover put up). */
  async unfence(customerIds: string[], fenceId?: string): Promise<{ released: number }> {
    return (await this.http.post('/admin/unfence', fenceId === undefined ? { customerIds } : { customerIds, fenceId })).data;
  }
}

/**
 * True when the error means nothing listens on the admin port (the router is not running). A timeout
 * or a reset is not that: a router may be there, slow or crashing, and a move must not act as if it
 * were absent.
 */
export function isRouterDown(error: unknown): boolean {
  return isAxiosError(error) && error.code === 'ECONNREFUSED';
}

/** Tells a running router to re-read the mapping now. Returns false when no router runs. */
export async function notifyRouter(home: string, settings: Settings): Promise<boolean> {
  try {
    await RouterAdmin.forWorkspace(home, settings, 2_000).reload();
    return true;
  } catch (error) {
    // A router that does not answer still sees the change by its own version check within a second.
    if (isAxiosError(error) && error.response === undefined) return false;
    throw error;
  }
}
