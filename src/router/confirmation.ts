// Whether the router may answer for customers: it confirmed, within the bound (routerStaleAfterMs),
// both that the control plane counts it as live (a heartbeat) and that its mapping is current (a
// mapping read). Movers fence only routers whose heartbeat is younger than routerStaleAfterMs, so a
// router a mover skipped has already stopped answering for customers (README, "Several routers").
//
// Every time is performance.now() (monotonic: a wall-clock step cannot stretch the bound) at the
// moment a read was SENT, never when its answer came: a heartbeat in flight when the process was
// paused is answered after the pause, and must not count as fresh.
import type { MappingConfirmationState } from './protocol.js';

export class MappingConfirmation {
  /**
   * performance.now() until which the router answers for customers. The request path compares one
   * clock reading against it and does nothing else: no I/O, no lookup.
   */
  validUntil = -Infinity;
  private heartbeatSentAt = -Infinity;
  private mappingSentAt = -Infinity;
  private readonly createdAt: number;

  constructor(
    private boundMs: number,
    now = performance.now(),
  ) {
    this.createdAt = now;
  }

  /** A heartbeat (or registration) sent at `sentAt` was written. */
  heartbeatWritten(sentAt: number): void {
    if (sentAt <= this.heartbeatSentAt) return;
    this.heartbeatSentAt = sentAt;
    this.update();
  }

  /** A read of the mapping sent at `sentAt` found it current (or the newer one was loaded). */
  mappingRead(sentAt: number): void {
    if (sentAt <= this.mappingSentAt) return;
    this.mappingSentAt = sentAt;
    this.update();
  }

  /** routerStaleAfterMs changed in cellctl.json (applied live, like the movers read it). */
  setBound(boundMs: number): void {
    this.boundMs = boundMs;
    this.update();
  }

  get bound(): number {
    return this.boundMs;
  }

  private update(): void {
    this.validUntil = Math.min(this.heartbeatSentAt, this.mappingSentAt) + this.boundMs;
  }

  /** For health: the monotonic times turned into wall-clock ones. */
  state(now = performance.now(), wallNow = Date.now()): MappingConfirmationState {
    const wall = (at: number) => new Date(wallNow - (now - at)).toISOString();
    const last = Math.min(this.heartbeatSentAt, this.mappingSentAt);
    if (now <= this.validUntil) return { confirmed: true, confirmedAt: wall(last) };
    const known = Number.isFinite(last);
    return { confirmed: false, confirmedAt: known ? wall(last) : null, unconfirmedSince: wall(known ? this.validUntil : this.createdAt) };
  }
}
