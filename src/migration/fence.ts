// The migration's view of the router's fence: put up, confirm unbroken, lift. When no router runs
// there is nothing to fence, and that fact is itself checked again before the switch.
import { randomUUID } from 'node:crypto';
import { isRouterDown, RouterAdmin } from '../router/client.js';
import { failure } from '../shared/errors.js';
import { livePid } from '../shared/procfs.js';
import { processPaths } from '../workspace/paths.js';
import type { Workspace } from '../workspace/workspace.js';

export type FenceHandle = { kind: 'router'; fenceId: string } | { kind: 'no-router' };

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

  /** Throws FenceLost unless the fence is still held (or there is still no router to hold one). */
  async confirm(customerIds: string[], handle: FenceHandle): Promise<void> {
    if (handle.kind === 'no-router') {
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
   */
  async lift(customerIds: string[], fenceId?: string): Promise<boolean> {
    try {
      await this.admin.unfence(customerIds, fenceId);
      return true;
    } catch (error) {
      if (isRouterDown(error)) return false;
      throw error;
    }
  }
}

/** What the router did, as the end of "the router …": answered an error, or did not answer in time. */
function describeAxios(error: unknown): string {
  const response = (error as { response?: { status?: number; data?: { error?: unknown; details?: unknown } } }).response;
  const text = typeof response?.data?.details === 'string' ? `${String(response.data.error)}: ${response.data.details}` : response?.data?.error;
  if (response) return `answered ${response.status ?? '?'}${typeof text === 'string' ? ` (${text})` : ''}`;
  const code = (error as { code?: string }).code;
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') return 'did not answer in time';
  return `could not be reached (${error instanceof Error ? error.message : String(error)})`;
}
