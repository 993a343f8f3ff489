// The migration's view of the routers' fence: put up on every live router, confirm unbroken, lift.
// A router whose heartbeat went stale is skipped (the cells' write barrier keeps the move safe);
// when no router runs there is nothing to fence, and that fact is itself checked again before the switch.
import { randomUUID } from 'node:crypto';
import { isRouterDown, RouterAdmin } from '../router/client.js';
import { describeError } from '../shared/errors.js';
import { readAdminToken } from '../workspace/secrets.js';
import { chooseFenceTargets, type FenceTarget, unfencedLive } from './fence-targets.js';
import { failure } from '../shared/errors.js';
import { livePid } from '../shared/procfs.js';
import { processPaths } from '../workspace/paths.js';
import { isLoopbackUrl } from '../shared/urls.js';
import type { Workspace } from '../workspace/workspace.js';

/** `routers`: the registered routers fenced (absent: the workspace's own router, none being registered). */
export type FenceHandle = { kind: 'router'; fenceId: string; routers?: FenceTarget[] } | { kind: 'no-router' };

export class FenceLost extends Error {}

export class MigrationFence {
  private readonly admin: RouterAdmin;
  private readonly leaseMs: number;
  /** When the fence was last put up or confirmed (performance.now()). */
  private confirmedAt = 0;
  /** When the last confirmation was asked for: the router's lease runs from no earlier than that. */
  private confirmSentAt = 0;

  constructor(private readonly ws: Workspace) {
    this.admin = RouterAdmin.forWorkspace(ws.home, ws.settings, ws.settings.limits.upstreamTimeoutMs + 5_000);
    this.leaseMs = ws.settings.limits.fenceLeaseMs;
  }

  /** One client per registered router for the whole move (made once: the fence's calls are on the held requests' clock). */
  private readonly admins = new Map<string, RouterAdmin>();

  private adminOf(target: FenceTarget): RouterAdmin {
    let admin = this.admins.get(target.adminUrl);
    if (!admin) {
      admin = new RouterAdmin(target.adminUrl, readAdminToken(this.ws.home), this.ws.settings.limits.upstreamTimeoutMs + 5_000);
      this.admins.set(target.adminUrl, admin);
    }
    return admin;
  }

  private async registered() {
    return this.ws.plane.listRouters(this.ws.settings.routerStaleAfterMs);
  }

  /** Whether a router that failed a call is still live (then the move must fail); an unreadable plane counts as live. */
  private async stillLive(id: string): Promise<boolean> {
    const routers = await this.registered().catch(() => null);
    return routers === null || routers.some((router) => router.id === id && router.live);
  }

  /**
   * Runs `call` on every target at once. A target that fails and is no longer live is left out
   * (returned without it); one that fails while live fails the whole with `fail(target, error)`.
   */
  private async onEach(
    targets: FenceTarget[],
    call: (target: FenceTarget) => Promise<void>,
    fail: (target: FenceTarget, error: unknown) => Error,
  ): Promise<FenceTarget[]> {
    const outcomes = await Promise.allSettled(targets.map(call));
    const kept: FenceTarget[] = [];
    for (const [index, outcome] of outcomes.entries()) {
      const target = targets[index]!;
      if (outcome.status === 'fulfilled') kept.push(target);
      else if (await this.stillLive(target.id)) throw fail(target, outcome.reason);
    }
    return kept;
  }

  /** Fences every live registered router; a live one that refuses lifts what was put and fails the move. */
  private async putOnRegistered(targets: FenceTarget[], customerIds: string[], fenceId: string): Promise<FenceHandle> {
    const fenced: FenceTarget[] = [];
    try {
      const kept = await this.onEach(
        targets,
        async (target) => {
          await this.adminOf(target).fence(customerIds, fenceId, this.leaseMs);
          fenced.push(target);
        },
        (target, error) =>
          failure(`router ${target.id} (${target.adminUrl}) ${describeAxios(error)} when asked to fence; nothing was moved${loopbackHint(target, error)}`),
      );
      this.confirmedAt = performance.now();
      return kept.length > 0 ? { kind: 'router', fenceId, routers: kept } : { kind: 'no-router' };
    } catch (error) {
      await Promise.allSettled(fenced.map((target) => this.adminOf(target).unfence(customerIds, fenceId)));
      throw error;
    }
  }

  /** Every fenced router confirms (a stale one is dropped); a live router that is not fenced means requests went unfenced. */
  private async confirmRegistered(customerIds: string[], fenceId: string, targets: FenceTarget[]): Promise<FenceTarget[]> {
    this.confirmSentAt = performance.now();
    const kept = await this.onEach(
      targets,
      async (target) => {
        if (!(await this.adminOf(target).confirmFence(customerIds, fenceId, this.leaseMs))) throw new FenceLost(`router ${target.id} lost the fence`);
      },
      (target, error) =>
        error instanceof FenceLost
          ? new FenceLost(`the fence lapsed or router ${target.id} restarted during the move`)
          : new FenceLost(`router ${target.id} ${describeAxios(error)} when asked to confirm the fence`),
    );
    const newcomers = unfencedLive(
      await this.registered(),
      kept.map((target) => target.id),
    );
    if (newcomers.length > 0) throw new FenceLost(`router ${newcomers.join(', ')} started during the move, so requests may have reached the source unfenced`);
    this.confirmedAt = performance.now();
    return kept;
  }

  /**
   * A refused admin port means "no router" only when no router process of this workspace is alive
   * either: one that is starting or stopping may already (or still) serve its public port.
   */
  private noRouter(error: unknown): boolean {
    if (!isRouterDown(error)) return false;
    if (livePid(processPaths(this.ws.home, 'router').pidFile, this.ws.home, 'router') === null) return true;
    throw new FenceLost('the router is starting or stopping (its process runs but its admin port refuses): run the move again');
  }

  /**
   * Throws FenceLost unless the router still holds the fence for certain: the last confirmation was
   * asked for less than half a lease ago. Called in the switch's transaction, so a mover that was
   * paused after confirming does not switch on a fence that may have lapsed meanwhile.
   */
  stillHeld(handle: FenceHandle): void {
    if (handle.kind === 'router' && performance.now() - this.confirmSentAt > this.leaseMs / 2) {
      throw new FenceLost('too long passed between confirming the fence and switching (the mover was paused?)');
    }
  }

  async put(customerIds: string[]): Promise<FenceHandle> {
    const fenceId = randomUUID();
    const targets = chooseFenceTargets(await this.registered());
    if (targets !== null) return this.putOnRegistered(targets, customerIds, fenceId);
    try {
      await this.admin.fence(customerIds, fenceId, this.leaseMs);
      this.confirmedAt = performance.now();
      return { kind: 'router', fenceId };
    } catch (error) {
      if (this.noRouter(error)) return { kind: 'no-router' };
      throw failure(`the router ${describeAxios(error)} when asked to fence; nothing was moved`);
    }
  }

  /**
   * During a long copy: confirms (and so extends) the fence every third of its lease, so a big
   * customer's move is not rolled back for taking longer than one lease.
   */
  async keepUp(customerIds: string[], handle: FenceHandle): Promise<void> {
    if (performance.now() - this.confirmedAt < this.leaseMs / 3) return;
    await this.confirm(customerIds, handle);
  }

  /**
   * confirm(), unless the last confirmation was asked for within `withinMs` (the engine confirms beside
   * the last page's import; a mover paused after that, as tests do, confirms again before switching).
   */
  async confirmFresh(customerIds: string[], handle: FenceHandle, withinMs: number): Promise<void> {
    if (handle.kind === 'router' && this.confirmSentAt > 0 && performance.now() - this.confirmSentAt <= withinMs) return;
    await this.confirm(customerIds, handle);
  }

  /** Throws FenceLost unless the fence is still held (or there is still no router to hold one). */
  async confirm(customerIds: string[], handle: FenceHandle): Promise<void> {
    if (handle.kind === 'router' && handle.routers) {
      handle.routers = await this.confirmRegistered(customerIds, handle.fenceId, handle.routers);
      return;
    }
    if (handle.kind === 'no-router') {
      const live = unfencedLive(await this.registered(), []);
      if (live.length > 0) throw new FenceLost(`router ${live.join(', ')} started during the move, so requests may have reached the source unfenced`);
      try {
        await this.admin.stats();
      } catch (error) {
        if (this.noRouter(error)) {
          this.confirmedAt = performance.now();
          return;
        }
      }
      throw new FenceLost('a router started during the move, so requests may have reached the source unfenced');
    }
    let held: boolean;
    this.confirmSentAt = performance.now();
    try {
      held = await this.admin.confirmFence(customerIds, handle.fenceId, this.leaseMs);
    } catch (error) {
      if (isRouterDown(error)) throw new FenceLost('the router stopped during the move');
      throw new FenceLost(`the router ${describeAxios(error)} when asked to confirm the fence`);
    }
    if (!held) throw new FenceLost('the fence lapsed or the router restarted during the move');
    this.confirmedAt = performance.now();
  }

  /**
   * Lifts the fence after the router has re-read the mapping. With a fence id (known from the handle
   * or the journal) only that fence is lifted, never one a later mover put up. False when no router runs.
   * `handle`'s routers are lifted when the control plane cannot be read (it going down is often why a
   * move stops); the plane's list is preferred, since it also names routers that started meanwhile.
   * After a switch (`switchedTo`, the customers' new cell), each router is told the new cell, so it
   * releases the held requests without reading the control plane first, and `handle`'s routers are
   * lifted without reading the plane's list: a router that started meanwhile holds the customers by
   * the journal's fence, which it lets go once it reads the move past its switch.
   */
  async lift(customerIds: string[], fenceId?: string, handle?: FenceHandle, switchedTo?: string): Promise<boolean> {
    const known = handle?.kind === 'router' ? handle.routers : undefined;
    const registered =
      switchedTo !== undefined && known
        ? null
        : await this.registered().catch((error: unknown) => {
            if (known) return null;
            throw error;
          });
    const targets = registered === null ? known! : chooseFenceTargets(registered);
    if (targets !== null) {
      const lifted = await this.onEach(
        targets,
        async (target) => {
          try {
            await this.adminOf(target).unfence(customerIds, fenceId, switchedTo);
          } catch (error) {
            // One that cannot be reached (killed, cut off) holds nothing that needs lifting: a restarted
            // router adopts only running moves' fences from the journal, and a cut-off one's lapses with
            // its lease. Only a router that answers with an error fails the lift.
            if (answered(error)) throw error;
          }
        },
        (target, error) => new Error(`router ${target.id} could not lift the fence: ${describeError(error)}`),
      );
      return lifted.length > 0;
    }
    try {
      await this.admin.unfence(customerIds, fenceId, switchedTo);
      return true;
    } catch (error) {
      if (isRouterDown(error)) return false;
      throw error;
    }
  }
}

/**
 * Why a live router could not be reached when it registered a loopback admin URL: run from another
 * host, this mover dialled its own loopback. Says how to make the router reachable.
 */
function loopbackHint(target: FenceTarget, error: unknown): string {
  if (!isLoopbackUrl(target.adminUrl) || answered(error)) return '';
  return ` (its admin API listens on loopback, which only its own host reaches: run the move on that host, or bind the admin API to an address this host reaches — "cellctl config set routerAdminHost <address>" and "cellctl restart router" for a supervised router, --admin-host for "router serve")`;
}

/** Whether a failed admin call got an answer (an HTTP error) rather than none (refused, cut off, timed out). */
const answered = (error: unknown): boolean => (error as { response?: unknown }).response !== undefined;

/** What the router did, as the end of "the router …": answered an error, or did not answer in time. */
function describeAxios(error: unknown): string {
  const response = (error as { response?: { status?: number; data?: { error?: unknown; details?: unknown } } }).response;
  const text = typeof response?.data?.details === 'string' ? `${String(response.data.error)}: ${response.data.details}` : response?.data?.error;
  if (response) return `answered ${response.status ?? '?'}${typeof text === 'string' ? ` (${text})` : ''}`;
  const code = (error as { code?: string }).code;
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') return 'did not answer in time';
  return `could not be reached (${error instanceof Error ? error.message : String(error)})`;
}
