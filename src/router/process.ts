// A router process for a workspace: the supervised one (main.ts) and each `cellctl router serve`
// open the workspace's control plane (control.db, or PostgreSQL from secrets/control-url) the same way.
import type { Logger } from 'pino';
import type { ControlPlane } from '../control/plane.js';
import { openControlPlane, printableLocation } from '../control/open.js';
import { controlLocation, readAdminToken, readJwtKey } from '../workspace/secrets.js';
import { workspacePaths } from '../workspace/paths.js';
import { readSettings } from '../workspace/workspace.js';
import { type RouterOptions, type RunningRouter, startRouter } from './router.js';

/** What a router started by hand changes from the workspace's settings. */
export type RouterOverrides = Pick<RouterOptions, 'host' | 'publicPort' | 'adminPort' | 'adminHost' | 'advertise'>;

/**
 * The router's plane: a short lock wait on control.db (its reads run on the event loop and must never
 * stall it), a short connect timeout on PostgreSQL (an unreachable store is noticed at once).
 */
export function openRouterPlane(location: string): Promise<ControlPlane> {
  return openControlPlane(location, { sqlite: { busyTimeoutMs: 20 }, postgres: { connectTimeoutMs: 2_000, poolSize: 3 } });
}

export interface WorkspaceRouter extends RunningRouter {
  /** Where its control plane is, safe to print. */
  control: string;
}

/** Starts a router on the workspace at `home` (its settings, secrets and control plane). */
export async function startWorkspaceRouter(home: string, log: Logger, overrides: RouterOverrides = {}): Promise<WorkspaceRouter> {
  const settings = readSettings(home);
  const location = controlLocation(home);
  const router = await startRouter({
    settings,
    openPlane: () => openRouterPlane(location),
    adminToken: readAdminToken(home),
    jwtKey: readJwtKey(home),
    log,
    loadSettings: () => readSettings(home),
    settingsFile: workspacePaths(home).settings,
    ...overrides,
  });
  const control = printableLocation(location);
  log.info({ id: router.id, port: router.publicPort, adminPort: router.adminPort, auth: settings.auth, control }, 'router listening');
  return { ...router, control };
}

/**
 * Stops the router on SIGTERM or SIGINT (deregistering it), then calls `done`: 0 when it closed
 * cleanly. A close that hangs past 10 s ends the process (exit 1).
 */
export function stopOnSignals(router: RunningRouter, log: Logger, done: (code: number) => void): void {
  const stop = (signal: string) => {
    log.info({ signal }, 'router stopping');
    setTimeout(() => process.exit(1), 10_000).unref();
    router.close().then(
      () => done(0),
      (error: unknown) => {
        log.error({ err: error }, 'router did not stop cleanly');
        done(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
