// The role contract of cellctl's image: which process a container runs (CELLCTL_ROLE) and which
// variables say where it answers, so its HEALTHCHECK (healthcheck.ts) probes the right port. Pure:
// a function of the environment. The docker runtime sets exactly these; docs/engines.md lists them.

export const ROLE_ENV = 'CELLCTL_ROLE';

/** Each role, the variable that holds its port, and the path its health answers on. */
export const ROLES = {
  /** `cellctl serve`: the cell app on $PORT, health at $CELLCTL_HEALTH_PATH (default /health). */
  cell: { portEnv: 'PORT', pathEnv: 'CELLCTL_HEALTH_PATH' },
  /** `cellctl router serve`: the router's public port. */
  router: { portEnv: 'CELLCTL_ROUTER_PORT', pathEnv: null },
  /** `cellctl cell-agent`: the data API beside a user's app. */
  agent: { portEnv: 'CELLCTL_DATA_PORT', pathEnv: null },
} as const;

export type Role = keyof typeof ROLES;

export const DEFAULT_HEALTH_PATH = '/health';

/** A healthy process answers this URL with 200 within this many milliseconds. */
export const HEALTH_TIMEOUT_MS = 3_000;

export type HealthTarget = { ok: true; role: Role; url: string } | { ok: false; problem: string };

const isRole = (word: string): word is Role => Object.hasOwn(ROLES, word);
const roleList = Object.keys(ROLES).join(', ');

/** Where the process this environment describes answers its health, or what is missing to know. */
export function healthTarget(env: Readonly<Record<string, string | undefined>>): HealthTarget {
  const role = env[ROLE_ENV];
  if (!role) return { ok: false, problem: `${ROLE_ENV} is not set: set it to ${roleList}, so the health check knows what to probe` };
  if (!isRole(role)) return { ok: false, problem: `${ROLE_ENV} is "${role}": it must be one of ${roleList}` };
  const { portEnv, pathEnv } = ROLES[role];
  const port = env[portEnv];
  if (!port) return { ok: false, problem: `${portEnv} is not set: a ${role}'s health check probes that port` };
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65_535) return { ok: false, problem: `${portEnv} is "${port}": not a port (1 to 65535)` };
  const path = (pathEnv && env[pathEnv]) || DEFAULT_HEALTH_PATH;
  if (!path.startsWith('/')) return { ok: false, problem: `${pathEnv} is "${path}": a path starts with "/"` };
  return { ok: true, role, url: `http://127.0.0.1:${Number(port)}${path}` };
}
