// Fences: while a customer is being moved, the router holds that customer's new requests (a bounded
// queue, for a bounded time) and lets the ones already in flight finish. A fence has a lease, so a
// migration that dies cannot hold a customer for ever.

export type HoldOutcome = 'released' | 'timeout' | 'queue-full';

interface Fence {
  leaseUntil: number;
  waiters: Set<(outcome: HoldOutcome) => void>;
  drained: Set<() => void>;
}

export interface FenceLimits {
  holdMs: number;
  queueLimit: number;
}

export class FenceBook {
  private readonly fences = new Map<string, Fence>();
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly limits: FenceLimits) {}

  isFenced(customerId: string, now: number): boolean {
    const fence = this.fences.get(customerId);
    if (!fence) return false;
    if (fence.leaseUntil > now) return true;
    this.release(customerId); // lease expired: the mover is gone; let traffic through
    return false;
  }

  fencedCustomers(): { customerId: string; held: number; leaseUntil: number }[] {
    return [...this.fences].map(([customerId, fence]) => ({ customerId, held: fence.waiters.size, leaseUntil: fence.leaseUntil }));
  }

  /** Puts up (or renews) a fence and resolves once the customer has nothing in flight. */
  async fence(customerId: string, leaseMs: number, drainTimeoutMs: number): Promise<{ drained: boolean; inFlight: number }> {
    const existing = this.fences.get(customerId);
    const fence: Fence = existing ?? { leaseUntil: 0, waiters: new Set(), drained: new Set() };
    fence.leaseUntil = Date.now() + leaseMs;
    this.fences.set(customerId, fence);
    if ((this.inFlight.get(customerId) ?? 0) === 0) return { drained: true, inFlight: 0 };
    const drained = await new Promise<boolean>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        fence.drained.delete(done);
        resolve(false);
      }, drainTimeoutMs);
      fence.drained.add(done);
    });
    return { drained, inFlight: this.inFlight.get(customerId) ?? 0 };
  }

  /** Lifts a fence; held requests continue (they look their cell up again). Returns how many. */
  release(customerId: string): number {
    const fence = this.fences.get(customerId);
    if (!fence) return 0;
    this.fences.delete(customerId);
    const held = fence.waiters.size;
    for (const wake of fence.waiters) wake('released');
    return held;
  }

  /** Waits while the customer is fenced. */
  hold(customerId: string): Promise<HoldOutcome> {
    const fence = this.fences.get(customerId);
    if (!fence) return Promise.resolve('released');
    if (fence.waiters.size >= this.limits.queueLimit) return Promise.resolve('queue-full');
    return new Promise((resolve) => {
      const wait = Math.min(this.limits.holdMs, Math.max(0, fence.leaseUntil - Date.now()));
      const wake = (outcome: HoldOutcome) => {
        clearTimeout(timer);
        fence.waiters.delete(wake);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        // Past the lease the fence is void and traffic may pass; past the hold limit it is a 503.
        wake(this.isFenced(customerId, Date.now()) ? 'timeout' : 'released');
      }, wait);
      fence.waiters.add(wake);
    });
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
    const fence = this.fences.get(customerId);
    if (fence) {
      for (const done of fence.drained) done();
      fence.drained.clear();
    }
  }

  inFlightFor(customerId: string): number {
    return this.inFlight.get(customerId) ?? 0;
  }
}
