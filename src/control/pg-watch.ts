// The mapping watch of a PostgreSQL control plane: one connection of its own LISTENs for mapping
// changes (NOTIFY), and the version is read on a timer beside it in case a notification was missed.
import pg from 'pg';
import type { PgConnection } from './pg-connection.js';
import { MAPPING_CHANNEL } from './pg-schema.js';

interface Watcher {
  onChange: (version: number) => void;
  seen: number | undefined;
}

export class MappingWatch {
  private readonly watchers = new Set<Watcher>();
  private listener: pg.Client | null = null;
  private safetyTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly db: PgConnection,
    /** Reads the mapping version (the poll, and the check after each (re)connection). */
    private readonly readVersion: () => Promise<number>,
    /** How often the version is read beside the notifications. */
    private readonly safetyPollMs: number,
  ) {}

  /** Calls `onChange` with each newer version; returns the unsubscribe. */
  subscribe(onChange: (version: number) => void, sinceVersion?: number): () => void {
    const watcher: Watcher = { onChange, seen: sinceVersion };
    this.watchers.add(watcher);
    if (this.watchers.size === 1) this.startWatching();
    else void this.checkVersion();
    return () => {
      this.watchers.delete(watcher);
      if (this.watchers.size === 0) this.stopWatching();
    };
  }

  /** Ends the watch for good (the plane closes). */
  stop(): void {
    this.closed = true;
    this.stopWatching();
  }

  private startWatching(): void {
    void this.listen();
    this.safetyTimer = setInterval(() => void this.checkVersion(), this.safetyPollMs);
    this.safetyTimer.unref();
  }

  private stopWatching(): void {
    if (this.safetyTimer) clearInterval(this.safetyTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.safetyTimer = null;
    this.retryTimer = null;
    const listener = this.listener;
    this.listener = null;
    void listener?.end().catch(() => undefined);
  }

  /** One connection of its own LISTENs; when it breaks, another replaces it and the version is checked for what was missed. */
  private async listen(): Promise<void> {
    const client = new pg.Client(this.db.clientConfig());
    this.listener = client;
    const relisten = (): void => {
      if (this.listener !== client) return;
      this.listener = null;
      void client.end().catch(() => undefined);
      if (this.closed || this.watchers.size === 0) return;
      this.retryTimer = setTimeout(() => void this.listen(), 500);
      this.retryTimer.unref();
    };
    client.on('error', relisten);
    client.on('end', relisten);
    client.on('notification', (message) => {
      if (message.channel === MAPPING_CHANNEL && message.payload) this.deliver(Number(message.payload));
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${MAPPING_CHANNEL}`);
      await this.checkVersion();
    } catch {
      relisten();
    }
  }

  private async checkVersion(): Promise<void> {
    try {
      this.deliver(await this.readVersion());
    } catch {
      // unreachable for now: the listener's reconnect or the next poll tries again
    }
  }

  private deliver(version: number): void {
    for (const watcher of this.watchers) {
      if (watcher.seen === undefined) watcher.seen = version;
      else if (version > watcher.seen) {
        watcher.seen = version;
        try {
          watcher.onChange(version);
        } catch {
          // a subscriber's failure is its own
        }
      }
    }
  }
}
