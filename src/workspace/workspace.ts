// Opening and initialising a workspace. Every command that works on an existing workspace goes
// through openWorkspace, which validates it and says what is wrong with a broken one.
import fs from 'node:fs';
import path from 'node:path';
import { isPostgresUrl, type OpenPlaneOptions, openControlPlane, printableLocation } from '../control/open.js';
import type { ControlPlane } from '../control/plane.js';
import { SqliteControlPlane } from '../control/sqlite-plane.js';
import { describeError, failure, isCellctlError, usageError } from '../shared/errors.js';
import { findTemplate, templateSearchPath } from '../templates/catalog.js';
import { workspacePaths, type WorkspacePaths } from './paths.js';
import { newWorkspaceId, prepareDocker, unprepareDocker } from './containers.js';
import { checkSwarm, prepareSwarm, publishSettings as publishSwarmSettings } from './swarm.js';
import { controlLocation, createSecrets, writeControlUrl } from './secrets.js';
import { formatIssues } from '../shared/validation.js';
import { defaultSettings, type Settings, settingsSchema } from './settings.js';

export const DEFAULT_HOME = 'cells';
export const DEFAULT_ROUTER_PORT = 8000;

export interface Workspace {
  home: string;
  paths: WorkspacePaths;
  settings: Settings;
  /** The control plane (control.db or PostgreSQL); close it when done, or a PostgreSQL pool keeps the process alive. */
  plane: ControlPlane;
}

export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag ?? env.CELLCTL_HOME ?? DEFAULT_HOME;
  if (chosen.trim() === '') throw usageError('--home (or CELLCTL_HOME) is empty: give a folder path');
  return path.resolve(chosen);
}

/** Files a workspace may hold before init: the repository's own placeholders. */
const IGNORABLE = new Set(['.gitkeep', '.gitignore', 'README.md']);

export function isWorkspace(home: string): boolean {
  return fs.existsSync(workspacePaths(home).settings);
}

/** The PostgreSQL URL init was given (--control, else CELLCTL_CONTROL_URL), or null for a control.db. */
export function chosenControlUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | null {
  const given = flag ?? env.CELLCTL_CONTROL_URL;
  if (given === undefined || given.trim() === '') return null;
  if (!isPostgresUrl(given)) {
    throw usageError(
      `the control plane ${printableLocation(given)} is not a PostgreSQL URL: give --control postgres://user:password@host:5432/database (or leave it out for a control.db)`,
    );
  }
  return given.trim();
}

/**
 * Connects to the PostgreSQL control plane (creating its schema), before anything of the workspace
 * exists: a wrong URL or an unreachable server leaves nothing behind.
 */
async function preparePostgres(url: string): Promise<void> {
  let plane: ControlPlane;
  try {
    plane = await openControlPlane(url);
  } catch (error) {
    const code = isCellctlError(error) ? error.code : undefined;
    throw failure(
      `cannot create the control plane at ${printableLocation(url)}: ${describeError(error)}; fix the URL (or start PostgreSQL) and run init again`,
      code === 'E_CONTROL_URL' || code === 'E_CONTROL_SCHEMA' ? code : 'E_CONTROL_UNAVAILABLE',
    );
  }
  await plane.close();
}

/** What a new workspace is made with (init and up). */
export interface NewWorkspace {
  routerPort: number;
  /** New customers are placed in cells of this template (null: the first cell created sets it). */
  placementTemplate?: string | null;
  /** A PostgreSQL URL for the control plane; null: control.db. */
  controlUrl?: string | null;
  runtime?: RuntimeChoice;
  /** Folders of the user's own templates (the templatePaths setting), so that init can name one. */
  templatePaths?: readonly string[];
}

/**
 * Creates a workspace, its control plane in control.db or (given `controlUrl`) in PostgreSQL.
 * Returns false (and changes nothing) when `home` already is one.
 */
export async function initWorkspace(home: string, asked: NewWorkspace): Promise<boolean> {
  const { routerPort, placementTemplate = null, controlUrl = null, runtime = { kind: 'local' } } = asked;
  const paths = workspacePaths(home);
  if (isWorkspace(home)) return false;
  checkCanHold(home);
  if (fs.existsSync(home)) {
    if (!fs.statSync(home).isDirectory()) throw usageError(`${home} is a file, not a folder: choose another --home`);
    const foreign = fs.readdirSync(home).filter((name) => !IGNORABLE.has(name));
    if (foreign.length > 0) {
      throw usageError(
        `${home} is not empty and is not a cellctl workspace (it holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}): choose an empty or new --home`,
      );
    }
  }
  // The admin API takes port + 1 and new cells start at port + 100.
  if (routerPort > 65435)
    throw usageError(`--router-port ${routerPort} is too high: the admin API uses port + 1 and cells port + 100 and up, so choose 65435 or lower`);
  const workspaceId = newWorkspaceId();
  const templatePaths = (asked.templatePaths ?? []).map((dir) => path.resolve(dir));
  const missing = templatePaths.find((dir) => !fs.existsSync(dir) || !fs.statSync(dir).isDirectory());
  if (missing) throw usageError(`--template-path ${missing} is not a folder: give the folder that holds your templates (each a folder with template.json)`);
  const settings: Settings = { ...defaultSettings(routerPort), placementTemplate, runtime: runtime.kind, workspaceId, templatePaths };
  if (placementTemplate !== null) findTemplate(placementTemplate, templateSearchPath(home, templatePaths));
  if (runtime.kind === 'swarm' && controlUrl === null) {
    throw usageError(
      'the swarm runtime keeps its control plane in PostgreSQL, which every node reaches: add --control postgres://user:password@host:5432/db (docs/engines.md says how to run one)',
    );
  }
  if (controlUrl !== null) await preparePostgres(controlUrl);
  // The CLI reaches a swarm's routers at the first router node's address.
  if (runtime.kind === 'swarm') settings.routerHost = settings.routerAdminHost = await checkSwarm(runtime.image);
  // Last of the checks, as it makes something (the workspace's network): undone below on failure.
  if (runtime.kind === 'docker') settings.engine = await prepareDocker(workspaceId, runtime.image);
  fs.mkdirSync(home, { recursive: true });
  const made: string[] = [];
  let undoSwarm: (() => Promise<void>) | null = null;
  try {
    createSecrets(home);
    made.push(paths.secretsDir);
    if (controlUrl !== null) {
      writeControlUrl(home, controlUrl);
    } else {
      await SqliteControlPlane.create(paths.controlDb).close();
      made.push(paths.controlDb, paths.controlDb + '-wal', paths.controlDb + '-shm');
    }
    if (runtime.kind === 'swarm') {
      // Its secrets become the swarm's (made above); the CLI reaches the routers at the first router node.
      const swarm = await prepareSwarm(home, workspaceId, runtime.image);
      undoSwarm = swarm.undo;
      settings.engine = swarm.engine;
      const plane = await openControlPlane(controlUrl!);
      await publishSwarmSettings(plane, settings).finally(() => plane.close());
    }
    // cellctl.json is written last: its presence is what marks a finished workspace.
    fs.writeFileSync(paths.settings, JSON.stringify(settings, null, 2) + '\n');
  } catch (error) {
    for (const file of made) fs.rmSync(file, { recursive: true, force: true });
    await undoSwarm?.();
    if (settings.engine && runtime.kind === 'docker') await unprepareDocker(settings.engine.network).catch(() => {});
    throw error;
  }
  return true;
}

/** The kernel's own file systems: no workspace can live there (Node's recursive mkdir even spins on /proc). */
const KERNEL_FOLDERS = ['/proc', '/sys', '/dev'];

/** Refuses a --home that cannot hold a workspace, before anything is made: a kernel folder, or under a file. */
function checkCanHold(home: string): void {
  let existing = home;
  while (!fs.existsSync(existing)) existing = path.dirname(existing);
  const real = fs.realpathSync(existing);
  const kernel = KERNEL_FOLDERS.find((folder) => real === folder || real.startsWith(`${folder}/`));
  if (kernel) throw usageError(`${home} is under ${kernel}, the kernel's own file system, which cannot hold a workspace: choose another --home`);
  if (existing !== home && !fs.statSync(existing).isDirectory()) throw usageError(`${home} is under ${existing}, which is a file: choose another --home`);
}

/** The runtime init is asked for: the local supervisor, or one Docker Engine running `image`. */
export type RuntimeChoice = { kind: 'local' } | { kind: 'docker' | 'swarm'; image: string };

/** What to say when --router-port names another port than an existing workspace's (which keeps its own); null when it does not. */
export function keptRouterPort(home: string, asked: number | undefined): string | null {
  const current = readSettings(home).routerPort;
  if (asked === undefined || asked === current) return null;
  return `note: the workspace keeps router port ${current} (--router-port ${asked} is for a new workspace); to change it: cellctl config set routerPort ${asked}`;
}

export function readSettings(home: string): Settings {
  return parseSettings(readRawSettings(home), workspacePaths(home).settings);
}

/** cellctl.json as written, before defaults are filled in (what `config set` edits). */
export function readRawSettings(home: string): Record<string, unknown> {
  const file = workspacePaths(home).settings;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw failure(`cannot parse ${file}: ${describeError(error)}; fix the JSON (or restore the file) and run the command again`);
  }
}

/**
 * Changes cellctl.json: the change is checked as a read would check the file (same errors), and
 * written whole by rename, so a reader never sees half a file.
 */
export function updateSettings(home: string, change: (raw: Record<string, unknown>) => void): Settings {
  const file = workspacePaths(home).settings;
  const raw = readRawSettings(home);
  change(raw);
  const settings = parseSettings(raw, file);
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(raw, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(temporary, file);
  return settings;
}

export function parseSettings(raw: unknown, file: string): Settings {
  const checked = checkSettings(raw);
  if ('problem' in checked) {
    throw failure(checked.schema ? `${file} is invalid: ${checked.problem}; fix the field and run the command again` : `${file}: ${checked.problem}`);
  }
  return checked.settings;
}

/** Settings read and checked, or what is wrong with them (`schema`: a field's own value, else how fields fit together). */
export function checkSettings(raw: unknown): { settings: Settings } | { problem: string; schema: boolean } {
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) return { problem: formatIssues(parsed.error), schema: true };
  const settings = parsed.data;
  const problem =
    settings.routerPort === settings.routerAdminPort
      ? 'routerPort and routerAdminPort must differ'
      : settings.runtime !== 'local' && (settings.engine === undefined || settings.workspaceId === undefined)
        ? `runtime "${settings.runtime}" needs "engine" and "workspaceId", which init writes; restore the file, or set "runtime": "local"`
        : settings.routerStaleAfterMs <= settings.routerHeartbeatMs
          ? `routerStaleAfterMs (${settings.routerStaleAfterMs}) must be longer than routerHeartbeatMs (${settings.routerHeartbeatMs}), or every router looks stale; make it at least 3 × routerHeartbeatMs`
          : null;
  return problem === null ? { settings } : { problem, schema: false };
}

/** Refuses a folder that is not a workspace, saying how to make one (every command that needs one). */
export function requireWorkspace(home: string): void {
  if (!fs.existsSync(home)) {
    throw usageError(`no workspace at ${home}: run "cellctl init --home ${home}" first (or "cellctl up")`);
  }
  if (!isWorkspace(home)) {
    throw usageError(`${home} is not a cellctl workspace (no cellctl.json): run "cellctl init --home ${home}" or pass the right --home`);
  }
}

/** Opens a workspace and its control plane (where secrets/control-url says, else control.db). */
export async function openWorkspace(home: string, planeOptions: OpenPlaneOptions = {}): Promise<Workspace> {
  requireWorkspace(home);
  const settings = readSettings(home);
  const paths = workspacePaths(home);
  const plane = await openControlPlane(controlLocation(home), planeOptions);
  return { home, paths, settings, plane };
}
