// The router's entry in the control plane's routers table: registered at start, heart-beat every
// routerHeartbeatMs (registered again when the store forgot it), removed on a clean stop, so movers
// and `status` know every live router and where its admin API answers. Each write that succeeds is
// reported with the time it was sent (confirmation.ts).
import os from 'node:os';
import type { Logger } from 'pino';
import type { ControlPlane, NewRouter } from '../control/plane.js';

/** Where a router is reached, as other processes (maybe on other hosts) should dial it. */
export interface RouterAddress {
  /** The address its port is bound to. */
  bindHost: string;
  port: number;
  /** The host name or address given with --advertise, used instead of the bind host. */
  advertise?: string;
}

const WILDCARD = new Set(['0.0.0.0', '::', '[::]', '']);

/** The host's first non-internal IPv4 address (what a wildcard bind is reached at), else loopback. */
export function hostAddress(interfaces = os.networkInterfaces()): string {
  for (const list of Object.values(interfaces)) {
    for (const entry of list ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  }
  return '127.0.0.1';
}

/** The URL to advertise for an address: --advertise's host, else the bind host (the host's address for a wildcard bind). */
export function advertisedUrl(address: RouterAddress, host = hostAddress): string {
  const name = address.advertise || (WILDCARD.has(address.bindHost) ? host() : address.bindHost);
  return `http://${name.includes(':') && !name.startsWith('[') ? `[${name}]` : name}:${address.port}`;
}

/** A router's id: stable for the process, and the same for a router restarted on the same host and port. */
export const routerId = (hostname: string, publicPort: number): string => `${hostname}:${publicPort}`;

export class Registration {
  private timer: NodeJS.Timeout | null = null;
  private failing = false;
  private beating: Promise<void> | null = null;

  constructor(
    private readonly plane: () => Promise<ControlPlane>,
    readonly record: NewRouter,
    private readonly heartbeatMs: number,
    private readonly log: Logger,
    /** A registration or heartbeat sent at `sentAt` (performance.now(), taken before sending) was written. */
    private readonly written: (sentAt: number) => void = () => undefined,
  ) {}

  /** Registers now and heart-beats from then on; a failed registration is retried by the heartbeat. */
  async start(): Promise<void> {
    const sentAt = performance.now();
    try {
      await (await this.plane()).registerRouter(this.record);
      this.written(sentAt);
      this.log.info({ id: this.record.id, adminUrl: this.record.adminUrl }, 'router registered');
    } catch (error) {
      this.log.warn({ err: error }, 'could not register the router; the heartbeat retries');
      this.failing = true;
    }
    this.timer = setInterval(() => {
      this.beating ??= this.beat().finally(() => {
        this.beating = null;
      });
    }, this.heartbeatMs);
  }

  private async beat(): Promise<void> {
    const sentAt = performance.now();
    try {
      const plane = await this.plane();
      if (!(await plane.heartbeatRouter(this.record.id))) {
        // The store forgot this router (a restore, an operator's cleanup): register again.
        await plane.registerRouter(this.record);
        this.log.info({ id: this.record.id }, 'router registered again');
      }
      this.written(sentAt);
      if (this.failing) this.log.info('router heartbeat written again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.log.warn({ err: error }, 'could not write the router heartbeat; will retry');
      this.failing = true;
    }
  }

  /** Stops heart-beating and removes the entry (best effort: a stale entry is only listed as not live). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating;
    try {
      await (await this.plane()).deregisterRouter(this.record.id);
    } catch (error) {
      this.log.warn({ err: error }, 'could not deregister the router');
    }
  }
}
