// The router's admin API as cellctl calls it (the workspace's router at routerAdminHost, or a registered
// router at the admin URL it registered; bearer admin token).
import axios, { type AxiosInstance, isAxiosError } from 'axios';
import { readAdminToken } from '../workspace/secrets.js';
import { advertisedUrl } from './registration.js';
import type { Settings } from '../workspace/settings.js';
import {
  ADMIN_PATHS,
  type ConfirmFenceRequest,
  type FenceAnswer,
  type FenceRequest,
  type RouterHealth,
  type RouterStats,
  type SettingsAnswer,
  type UnfenceAnswer,
  type UnfenceRequest,
} from './protocol.js';

export type { RouterStats } from './protocol.js';

export class RouterAdmin {
  private readonly http: AxiosInstance;

  /** `adminUrl`: where the router's admin API answers (http://host:port). */
  constructor(adminUrl: string, token: string, timeoutMs = 5_000) {
    // The admin API never redirects; 0 also makes axios use node:http itself, not follow-redirects' wrapper (less work per call, inside a move's fence).
    this.http = axios.create({ baseURL: adminUrl, headers: { authorization: `Bearer ${token}` }, timeout: timeoutMs, maxRedirects: 0, proxy: false });
  }

  /** The workspace's router's admin API where `routerAdminHost` binds it (127.0.0.1 for a wildcard bind; a swarm's first router node). */
  static forWorkspace(home: string, settings: Settings, timeoutMs?: number): RouterAdmin {
    const url = advertisedUrl({ bindHost: settings.routerAdminHost, port: settings.routerAdminPort }, () => '127.0.0.1');
    return new RouterAdmin(url, readAdminToken(home), timeoutMs);
  }

  async stats(): Promise<RouterStats> {
    return (await this.http.get<RouterStats>(ADMIN_PATHS.stats)).data;
  }

  async health(): Promise<RouterHealth> {
    return (await this.http.get<RouterHealth>(ADMIN_PATHS.health)).data;
  }

  async metricsText(): Promise<string> {
    return (await this.http.get<string>(ADMIN_PATHS.metrics, { responseType: 'text' })).data;
  }

  /** Makes the router re-read cellctl.json and apply what it can without a restart. */
  async reloadSettings(): Promise<SettingsAnswer> {
    return (await this.http.post<SettingsAnswer>(ADMIN_PATHS.settings)).data;
  }

  async reload(): Promise<void> {
    await this.http.post(ADMIN_PATHS.reload);
  }

  async fence(customerIds: string[], fenceId: string, leaseMs: number): Promise<FenceAnswer> {
    const body: FenceRequest = { customerIds, fenceId, leaseMs };
    return (await this.http.post<FenceAnswer>(ADMIN_PATHS.fence, body)).data;
  }

  /** Resolves true when the fence was held without a break (and extends it), false when it was lost. */
  async confirmFence(customerIds: string[], fenceId: string, leaseMs: number): Promise<boolean> {
    const body: ConfirmFenceRequest = { customerIds, fenceId, leaseMs };
    const response = await this.http.post(ADMIN_PATHS.confirmFence, body, { validateStatus: (status) => status === 200 || status === 409 });
    return response.status === 200;
  }

  /** Lifts fences; with `fenceId`, only fences that still carry that id (not one a later mover put up). */
  async unfence(customerIds: string[], fenceId?: string, switchedTo?: string): Promise<UnfenceAnswer> {
    const body: UnfenceRequest = { customerIds, ...(fenceId === undefined ? {} : { fenceId }), ...(switchedTo === undefined ? {} : { switchedTo }) };
    return (await this.http.post<UnfenceAnswer>(ADMIN_PATHS.unfence, body)).data;
  }
}

/** Where clients reach the workspace's router: `routerHost` (127.0.0.1 for a wildcard bind; a swarm's first router node) and `routerPort`. */
export function routerPublicUrl(settings: Pick<Settings, 'routerHost' | 'routerPort'>): string {
  return advertisedUrl({ bindHost: settings.routerHost, port: settings.routerPort }, () => '127.0.0.1');
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
