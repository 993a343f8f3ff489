// The bytes the router holds for requests still arriving, summed over every client connection: one
// cap, so many unfinished uploads cannot take the router's memory. Past the cap the connections
// holding the most are refused, so the clients sending small requests keep being served.

export interface InputHolder {
  /** Bytes this holder keeps for requests not yet routed. */
  held: number;
  /** Refuse this holder's request (503) and let its bytes go; called at most once. */
  evict(): void;
}

export class InputBudget {
  used = 0;
  private readonly holders = new Set<InputHolder>();

  constructor(readonly limit: number) {}

  /** Counts `bytes` more for `holder`. Returns false when `holder` itself was evicted to make room. */
  take(holder: InputHolder, bytes: number): boolean {
    this.holders.add(holder);
    holder.held += bytes;
    this.used += bytes;
    while (this.used > this.limit) {
      const victim = largestHolder(this.holders);
      if (!victim) break;
      this.drop(victim);
      victim.evict();
      if (victim === holder) return false;
    }
    return true;
  }

  release(holder: InputHolder, bytes: number): void {
    const freed = Math.min(bytes, holder.held);
    holder.held -= freed;
    this.used -= freed;
  }

  /** The holder is gone (closed, answered, handed on): its bytes no longer count. */
  drop(holder: InputHolder): void {
    this.release(holder, holder.held);
    this.holders.delete(holder);
  }
}

export function largestHolder(holders: Iterable<InputHolder>): InputHolder | null {
  let largest: InputHolder | null = null;
  for (const holder of holders) if (largest === null || holder.held > largest.held) largest = holder;
  return largest;
}
