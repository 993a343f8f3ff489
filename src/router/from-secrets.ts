// A router with no workspace folder of its own (a swarm's router task, a Kubernetes router pod): its secrets (admin token,
// JWT key, control-plane URL) come from a folder of files (Docker's /run/secrets), its settings from
// the control plane, where the CLI publishes them (workspace/swarm.ts publishSettings). It runs on a
// private folder made from those, which it keeps current: settings changed in the control plane
// are written there within a second, and the router applies them as it applies a hand edit of
// cellctl.json. On swarm its advertised address is its node's (the task knows its node's id; the
// service names each node's address); elsewhere `--advertise` says it (a pod's address).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { failure, usageError } from '../shared/errors.js';
import { workspacePaths } from '../workspace/paths.js';
import { parseSettings } from '../workspace/workspace.js';
import { ROUTER_SECRETS, SHARED_SETTINGS } from '../workspace/swarm.js';
import { openRouterPlane } from './process.js';

/** How often the settings in the control plane are read again. */
const SETTINGS_POLL_MS = 1_000;

export interface PrivateHome {
  home: string;
  /** The address to advertise: this node's, from CELLCTL_NODE_ID and CELLCTL_NODE_ADDRESSES; undefined when not given. */
  advertise: string | undefined;
  /** Stops following the settings and removes the folder. */
  close(): Promise<void>;
}

function readSecretFile(dir: string, name: string): string {
  try {
    return fs.readFileSync(path.join(dir, name), 'utf8');
  } catch (error) {
    throw usageError(
      `--from-secrets ${dir} has no readable ${name} (${(error as NodeJS.ErrnoException).code}): give the folder holding ${ROUTER_SECRETS.join(', ')}`,
    );
  }
}

/** This node's address from the environment a swarm router task gets, or undefined. */
export function nodeAddress(env: NodeJS.ProcessEnv): string | undefined {
  if (!env.CELLCTL_NODE_ID || !env.CELLCTL_NODE_ADDRESSES) return undefined;
  let addresses: Record<string, string>;
  try {
    addresses = JSON.parse(env.CELLCTL_NODE_ADDRESSES) as Record<string, string>;
  } catch {
    throw usageError('CELLCTL_NODE_ADDRESSES is not JSON (node id → address): restart the routers with "cellctl restart router"');
  }
  const address = addresses[env.CELLCTL_NODE_ID];
  if (!address)
    throw failure(
      `this node (${env.CELLCTL_NODE_ID}) is not among the router nodes the service names: run "cellctl restart router" to name every node labelled for routers`,
    );
  return address;
}

/** Makes the private folder from `secretsDir` and the control plane's settings, and keeps the settings current. */
export async function privateHome(secretsDir: string, log: Logger): Promise<PrivateHome> {
  const values = Object.fromEntries(ROUTER_SECRETS.map((name) => [name, readSecretFile(secretsDir, name)]));
  // Checked before anything is opened: a node the service does not name ends the task at once (the engine retries it).
  const advertise = nodeAddress(process.env);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cellctl-router-'));
  const paths = workspacePaths(home);
  fs.mkdirSync(paths.secretsDir, { mode: 0o700 });
  fs.writeFileSync(paths.adminToken, values['admin-token']!, { mode: 0o600 });
  fs.writeFileSync(paths.jwtKey, values['jwt-key']!, { mode: 0o600 });
  fs.writeFileSync(paths.controlUrl, values['control-url']!, { mode: 0o600 });
  const plane = await openRouterPlane(values['control-url']!.trim());
  let written = '';
  const follow = async (): Promise<void> => {
    const value = await plane.readShared(SHARED_SETTINGS);
    if (value === null)
      throw failure(
        'the control plane holds no settings for the routers: run a cellctl command on the workspace (e.g. "cellctl status"), which publishes them',
      );
    if (value === written) return;
    parseSettings(JSON.parse(value), 'the settings in the control plane');
    const temporary = `${paths.settings}.tmp`;
    fs.writeFileSync(temporary, value, { mode: 0o600 });
    fs.renameSync(temporary, paths.settings);
    written = value;
  };
  try {
    await follow();
  } catch (error) {
    await plane.close();
    fs.rmSync(home, { recursive: true, force: true });
    throw error;
  }
  const timer = setInterval(() => {
    follow().catch((error: unknown) => log.warn({ err: error }, 'cannot read the settings in the control plane; keeping the settings in force'));
  }, SETTINGS_POLL_MS);
  return {
    home,
    advertise,
    async close() {
      clearInterval(timer);
      await plane.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
