// The cell's order worker: takes due events off the order_events queue table and moves each order
// pending → processing → fulfilled, writing a notification at the end. Each transition is one
// transaction guarded by the event's current kind, so a transition is applied at most once, and an
// event whose rows were moved to another cell meanwhile is simply no longer found. Events of a
// customer barred by a move (src/data/barrier.ts) wait: their rows must not change until the move ends.
import type Database from 'better-sqlite3';
import { notBarredClause } from '../../data/barrier.js';
import { isBarredWrite } from '../../shared/sqlite-requests.js';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';

interface DueEvent {
  id: string;
  order_id: string;
  customer_id: string;
  kind: 'order.placed' | 'order.processing';
}

export interface OrderWorkerOptions {
  intervalMs: number;
  /** How long an order stays in "processing" before it is fulfilled. */
  processingMs: number;
}

export class OrderWorker {
  private timer: NodeJS.Timeout | null = null;
  private readonly due;
  private readonly advance;

  constructor(
    db: Database.Database,
    private readonly log: Logger,
    private readonly options: OrderWorkerOptions,
  ) {
    // Barred customers' events are left out of the batch, so they never crowd out the others'.
    const notBarred = notBarredClause(db, 'customer_id');
    this.due = db.prepare(
      `SELECT id, order_id, customer_id, kind FROM order_events WHERE state = 'queued' AND available_at <= ? ${notBarred} ORDER BY available_at LIMIT 100`,
    );
    const claim = db.prepare("UPDATE order_events SET kind = ?, attempts = attempts + 1, available_at = ? WHERE id = ? AND kind = ? AND state = 'queued'");
    const finish = db.prepare(
      "UPDATE order_events SET state = 'done', attempts = attempts + 1 WHERE id = ? AND kind = 'order.processing' AND state = 'queued'",
    );
    const setStatus = db.prepare('UPDATE orders SET status = ?, updated_at = ? WHERE order_id = ?');
    const notify = db.prepare("INSERT INTO notifications (id, customer_id, order_id, channel, message, created_at) VALUES (?, ?, ?, 'email', ?, ?)");
    this.advance = db.transaction((event: DueEvent): boolean => {
      const at = new Date().toISOString();
      if (event.kind === 'order.placed') {
        if (claim.run('order.processing', Date.now() + this.options.processingMs, event.id, 'order.placed').changes !== 1) return false;
        setStatus.run('processing', at, event.order_id);
        return true;
      }
      if (finish.run(event.id).changes !== 1) return false;
      setStatus.run('fulfilled', at, event.order_id);
      notify.run(randomUUID(), event.customer_id, event.order_id, `Your order ${event.order_id} has shipped.`, at);
      return true;
    });
  }

  get running(): boolean {
    return this.timer !== null;
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    try {
      for (const event of this.due.all(Date.now()) as DueEvent[]) this.advanceUnlessBarred(event);
    } catch (error) {
      // A busy database or a moved customer: the event stays queued and is retried on the next tick.
      this.log.warn({ err: error }, 'order worker tick failed');
    }
  }

  /** A customer barred since the batch was read keeps its event queued; the others go on. */
  private advanceUnlessBarred(event: DueEvent): void {
    try {
      this.advance.immediate(event);
    } catch (error) {
      if (!isBarredWrite(error)) throw error;
    }
  }
}
