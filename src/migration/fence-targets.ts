// Which routers a move fences: every router the control plane reports live (any host), by the admin
// URL each registered; none registered live means the workspace's own router, as before routers registered.
import type { RouterRecord } from '../control/plane.js';

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
