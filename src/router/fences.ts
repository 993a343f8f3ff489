// Fences: while a customer is being moved, the router holds that customer's new requests (a bounded
// queue, for a bounded time) and lets the ones already in flight finish. A fence has an id and a
// lease: a mover that dies cannot hold a customer for ever, and a mover can tell, before it switches
// the mapping, whether its fence was held without a break (same id, lease never lapsed).

export type HoldOutcome = 'released' | 'timeout' | 'queue-full';

interface Fence {
  id: string;
  leaseUntil: number;
  waiters: Set<(outcome: HoldOutcome) => void>;
}

export interface FenceLimits {
  holdMs: number;
  queueLimit: number;
}

/** How many recent hold times are kept for the write-pause figures in the admin stats. */
const HOLD_SAMPLES = 10_000;
/** How many fence ids given over the admin API are remembered (journal-fences.ts asks). */
const GIVEN_IDS = 1_000;

export class FenceBook {
  private readonly fences = new Map<string, Fence>();
  private readonly holdsMs: number[] = [];
  private holdCursor = 0;
  private readonly inFlight = new Map<string, number>();
  private readonly drainWaiters = new Map<string, Set<() => void>>();
  /** Fence ids movers put up here over the admin API, oldest first: those movers lift their fences themselves. */
  private readonly givenIds = new Set<string>();

  constructor(private readonly limits: FenceLimits) {}

  isFenced(customerId: string, now: number): boolean {
    const fence = this.fences.get(customerId);
    if (!fence) return false;
    if (fence.leaseUntil > now) return true;
    this.release(customerId); // lease lapsed: the mover is gone; let traffic through
    return false;
  }

  fencedCustomers(): { customerId: string; held: number; leaseUntil: number }[] {
    return [...this.fences].map(([customerId, fence]) => ({ customerId, held: fence.waiters.size, leaseUntil: fence.leaseUntil }));
  }

  /** Puts up fences with the given id, then resolves once none of the customers has a request in flight. */
  async fence(customerIds: readonly string[], fenceId: string, leaseMs: number, drainTimeoutMs: number): Promise<{ drained: boolean; inFlight: number }> {
    const leaseUntil = Date.now() + leaseMs;
    this.remember(fenceId);
    for (const customerId of customerIds) {
      const existing = this.fences.get(customerId);
      if (existing) {
        existing.id = fenceId;
        existing.leaseUntil = leaseUntil;
      } else this.fences.set(customerId, { id: fenceId, leaseUntil, waiters: new Set() });
    }
    const busy = customerIds.filter((customerId) => (this.inFlight.get(customerId) ?? 0) > 0);
    if (busy.length === 0) return { drained: true, inFlight: 0 };
    const drained = await new Promise<boolean>((resolve) => {
      let left = busy.length;
      const timer = setTimeout(() => {
        for (const customerId of busy) this.drainWaiters.get(customerId)?.delete(done);
        resolve(false);
      }, drainTimeoutMs);
      function done() {
        left -= 1;
        if (left === 0) {
          clearTimeout(timer);
          resolve(true);
        }
      }
      for (const customerId of busy) {
        let waiters = this.drainWaiters.get(customerId);
        if (!waiters) this.drainWaiters.set(customerId, (waiters = new Set()));
        waiters.add(done);
      }
    });
    return { drained, inFlight: customerIds.reduce((sum, customerId) => sum + (this.inFlight.get(customerId) ?? 0), 0) };
  }

  private remember(fenceId: string): void {
    this.givenIds.delete(fenceId);
    this.givenIds.add(fenceId);
    if (this.givenIds.size > GIVEN_IDS) this.givenIds.delete(this.givenIds.values().next().value!);
  }

  /** Whether a mover put up a fence with this id here (over the admin API). */
  wasGiven(fenceId: string): boolean {
    return this.givenIds.has(fenceId);
  }

  /**
   * Puts up (or extends) a fence the router learned from the journal, unless another fence is up:
   * a mover's own fence wins, and the mover lifts it. Returns whether the fence is this one.
   */
  adopt(customerId: string, fenceId: string, leaseUntil: number): boolean {
    const existing = this.fences.get(customerId);
    if (existing && existing.id !== fenceId && existing.leaseUntil > Date.now()) return false;
    if (existing && existing.id === fenceId) existing.leaseUntil = leaseUntil;
    else {
      if (existing) this.release(customerId);
      this.fences.set(customerId, { id: fenceId, leaseUntil, waiters: new Set() });
    }
    return true;
  }

  /** True when every customer still holds the fence `fenceId` unbroken; extends their leases. */
  confirm(customerIds: readonly string[], fenceId: string, leaseMs: number, now: number): boolean {
    const held = customerIds.every((customerId) => {
      const fence = this.fences.get(customerId);
      return fence !== undefined && fence.id === fenceId && fence.leaseUntil > now;
    });
    if (held) for (const customerId of customerIds) this.fences.get(customerId)!.leaseUntil = now + leaseMs;
    return held;
  }

  /**
   * Lifts a fence — with `fenceId`, only if it is still that one — and held requests continue (they
   * look their cell up again). Returns how many.
   */
  release(customerId: string, fenceId?: string): number {
    const fence = this.fences.get(customerId);
    if (!fence || (fenceId !== undefined && fence.id !== fenceId)) return 0;
    this.fences.delete(customerId);
    const held = fence.waiters.size;
    for (const wake of fence.waiters) wake('released');
    return held;
  }

  /** Waits while the customer is fenced: until release, lease lapse, or the hold limit (timeout). */
  hold(customerId: string): Promise<HoldOutcome> {
    const fence = this.fences.get(customerId);
    if (!fence) return Promise.resolve('released');
    if (fence.waiters.size >= this.limits.queueLimit) return Promise.resolve('queue-full');
    const heldAt = performance.now();
    const holdUntil = Date.now() + this.limits.holdMs;
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout;
      const wake = (outcome: HoldOutcome) => {
        clearTimeout(timer);
        fence.waiters.delete(wake);
        this.recordHold(performance.now() - heldAt);
        resolve(outcome);
      };
      const check = () => {
        const now = Date.now();
        if (this.fences.get(customerId) !== fence) return wake('released');
        // A lapsed lease voids the fence for everyone (the mover is gone); the hold limit only this request.
        if (fence.leaseUntil <= now) return void this.release(customerId);
        if (now >= holdUntil) return wake('timeout');
        timer = setTimeout(check, Math.min(holdUntil, fence.leaseUntil) - now + 1);
      };
      fence.waiters.add(wake);
      check();
    });
  }

  private recordHold(ms: number): void {
    if (this.holdsMs.length < HOLD_SAMPLES) this.holdsMs.push(ms);
    else this.holdsMs[this.holdCursor++ % HOLD_SAMPLES] = ms;
  }

  /** How long held requests waited (the write pause clients saw), over the recent holds. */
  holdSummary(): { count: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null } {
    if (this.holdsMs.length === 0) return { count: 0, p50Ms: null, p99Ms: null, maxMs: null };
    const sorted = [...this.holdsMs].sort((a, b) => a - b);
    const at = (q: number) => Math.round(nearestRank(sorted, q) * 100) / 100;
    return { count: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) };
  }

  begin(customerId: string): void {
    this.inFlight.set(customerId, (this.inFlight.get(customerId) ?? 0) + 1);
  }

  end(customerId: string): void {
    const left = (this.inFlight.get(customerId) ?? 1) - 1;
    if (left > 0) {
      this.inFlight.set(customerId, left);
      return;
    }
    this.inFlight.delete(customerId);
    const waiters = this.drainWaiters.get(customerId);
    if (waiters) {
      this.drainWaiters.delete(customerId);
      for (const done of waiters) done();
    }
  }
}

/**
 * The `q` quantile of ascending `sorted` values by the nearest-rank method: the ⌈q·n⌉-th value. So the
 * p99 of 100 values is the 99th, not the largest; of 30 values it is the largest (too few to say more).
 */
export function nearestRank(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1]!;
}
