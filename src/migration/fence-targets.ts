// Which routers a move fences: every router the control plane reports live (any host), by the admin
// URL each registered; none registered live means the workspace's own router, as before routers registered.
import axios, { type AxiosInstance } from 'axios';
import type { RouterRecord } from '../control/plane.js';
import { ADMIN_PATHS, type ConfirmFenceRequest, type FenceRequest, type UnfenceRequest } from '../router/protocol.js';

export interface FenceTarget {
  id: string;
  adminUrl: string;
}

/** The live registered routers to fence, or null when none is live (then the workspace's own router is the target). */
export function chooseFenceTargets(routers: readonly RouterRecord[]): FenceTarget[] | null {
  const live = routers.filter((router) => router.live).map(({ id, adminUrl }) => ({ id, adminUrl: adminUrl.replace(/\/+$/, '') }));
  return live.length > 0 ? live : null;
}

/** Registered routers that are live but not among `fenced`: they started (or came back) during the move unfenced. */
export function unfencedLive(routers: readonly RouterRecord[], fenced: readonly string[]): string[] {
  return routers.filter((router) => router.live && !fenced.includes(router.id)).map((router) => router.id);
}

/** The fence calls of one router's admin API at its registered URL. */
export class FenceAdmin {
  private readonly http: AxiosInstance;

  constructor(adminUrl: string, token: string, timeoutMs: number) {
    this.http = axios.create({ baseURL: adminUrl, headers: { authorization: `Bearer ${token}` }, timeout: timeoutMs });
  }

  async fence(customerIds: string[], fenceId: string, leaseMs: number): Promise<void> {
    const body: FenceRequest = { customerIds, fenceId, leaseMs };
    await this.http.post(ADMIN_PATHS.fence, body);
  }

  async confirmFence(customerIds: string[], fenceId: string, leaseMs: number): Promise<boolean> {
    const body: ConfirmFenceRequest = { customerIds, fenceId, leaseMs };
    const response = await this.http.post(ADMIN_PATHS.confirmFence, body, { validateStatus: (status) => status === 200 || status === 409 });
    return response.status === 200;
  }

  async unfence(customerIds: string[], fenceId?: string): Promise<void> {
    const body: UnfenceRequest = fenceId === undefined ? { customerIds } : { customerIds, fenceId };
    await this.http.post(ADMIN_PATHS.unfence, body);
  }
}
