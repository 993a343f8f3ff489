// Which settings a running router applies when cellctl.json changes, and which wait for a router
// restart (they shape its listening sockets or state it holds). Pure, so it is tested directly.
import type { Settings } from '../workspace/settings.js';

/** Settings the router reads only when it starts: a change needs "cellctl restart router" (never a cell restart). */
export const ROUTER_RESTART_SETTINGS: ReadonlySet<string> = new Set([
  'routerPort',
  'routerAdminPort',
  'routerAdminHost',
  'routerHost',
  'routerHeartbeatMs',
  'limits.requestTimeoutMs',
  'limits.maxBufferedBytes',
  'limits.fenceHoldMs',
  'limits.fenceQueueLimit',
]);

/** Settings no router reads (the supervisor's, and what only cellctl itself uses). */
const NOT_THE_ROUTERS = (key: string): boolean =>
  key === 'format' || key === 'cellPortBase' || key === 'templatePaths' || key === 'limits.migrationLeaseMs' || key.startsWith('supervisor.');

function flatten(value: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) for (const [path, text] of flatten(inner, prefix ? `${prefix}.${key}` : key)) out.set(path, text);
  } else {
    out.set(prefix, JSON.stringify(value));
  }
  return out;
}

export interface SettingsChange {
  /** Applied by the running router at once. */
  applied: string[];
  /** Changed in cellctl.json, applied once the router restarts. */
  needsRestart: string[];
}

/** The router's settings that differ between what it runs with and cellctl.json, by dotted name. */
export function diffRouterSettings(running: Settings, next: Settings): SettingsChange {
  const before = flatten(running);
  const after = flatten(next);
  const keys = [...new Set([...before.keys(), ...after.keys()])].filter((key) => !NOT_THE_ROUTERS(key) && before.get(key) !== after.get(key)).sort();
  const waits = (key: string) => ROUTER_RESTART_SETTINGS.has(key) || loosensAuth(key, running, next);
  return { applied: keys.filter((key) => !waits(key)), needsRestart: keys.filter(waits) };
}

/**
 * Turning authentication off (or accepting tokens without an expiry) is never applied on the fly:
 * an edit or a slip must not open every customer's data at once; it waits for "cellctl restart router".
 */
function loosensAuth(key: string, running: Settings, next: Settings): boolean {
  if (key === 'auth') return running.auth === 'jwt' && next.auth !== 'jwt';
  if (key === 'jwtRequireExp') return running.jwtRequireExp && !next.jwtRequireExp;
  return false;
}

export interface SettingsInForce extends SettingsChange {
  /** What the router runs with now: `next`, less what waits for a restart. */
  settings: Settings;
}

/**
 * The settings a running router moves to when cellctl.json reads `next`: every live setting from
 * `next`; the restart-only ones as the router started (`startedWith`); loosened authentication as it
 * runs (`running`). `needsRestart` lists what differs from `next` until a restart, whichever reload
 * saw it first.
 */
export function settingsInForce(startedWith: Settings, running: Settings, next: Settings): SettingsInForce {
  const change = diffRouterSettings(running, next);
  const held = new Set(change.needsRestart);
  const settings: Settings = {
    ...structuredClone(next),
    // Loosened authentication waits for a restart (loosensAuth): keep enforcing what runs.
    auth: held.has('auth') ? running.auth : next.auth,
    jwtRequireExp: held.has('jwtRequireExp') ? running.jwtRequireExp : next.jwtRequireExp,
  };
  for (const key of ROUTER_RESTART_SETTINGS) copyDotted(startedWith, settings, key);
  const needsRestart = [...new Set([...diffRouterSettings(startedWith, next).needsRestart, ...change.needsRestart])].sort();
  return { settings, applied: change.applied, needsRestart };
}

/** Copies the setting at a dotted name (`limits.fenceHoldMs`) from one settings object to another. */
function copyDotted(from: Settings, to: Settings, dotted: string): void {
  const path = dotted.split('.');
  const last = path.pop()!;
  const source = path.reduce<Record<string, unknown>>((at, key) => at[key] as Record<string, unknown>, from as unknown as Record<string, unknown>);
  const target = path.reduce<Record<string, unknown>>((at, key) => at[key] as Record<string, unknown>, to as unknown as Record<string, unknown>);
  target[last] = source[last];
}
