// Every path inside a workspace comes from here, so the layout in DESIGN.md lives in one place.
import path from 'node:path';

export interface WorkspacePaths {
  home: string;
  settings: string;
  controlDb: string;
  secretsDir: string;
  adminToken: string;
  jwtKey: string;
  /** The PostgreSQL control plane's connection URL (mode 0600); absent when the control plane is control.db. */
  controlUrl: string;
  routerDir: string;
  supervisorDir: string;
  supervisorState: string;
}

export interface CellPaths {
  dir: string;
  descriptor: string;
  dataDb: string;
  pidFile: string;
  logsDir: string;
}

export function workspacePaths(home: string): WorkspacePaths {
  const root = path.resolve(home);
  const secretsDir = path.join(root, 'secrets');
  const supervisorDir = path.join(root, 'supervisor');
  return {
    home: root,
    settings: path.join(root, 'cellctl.json'),
    controlDb: path.join(root, 'control.db'),
    secretsDir,
    adminToken: path.join(secretsDir, 'admin-token'),
    jwtKey: path.join(secretsDir, 'jwt-key'),
    controlUrl: path.join(secretsDir, 'control-url'),
    routerDir: path.join(root, 'router'),
    supervisorDir,
    supervisorState: path.join(supervisorDir, 'supervisor.json'),
  };
}

/** A cell's data API token: secrets/cells/<cell>.token (mode 0600; a registered cell's copy of its --token-file). */
export function cellTokenFile(home: string, cellId: string): string {
  return path.join(workspacePaths(home).secretsDir, 'cells', `${cellId}.token`);
}

export function cellPaths(home: string, cellId: string): CellPaths {
  const dir = path.join(path.resolve(home), cellId);
  return {
    dir,
    descriptor: path.join(dir, 'cell.json'),
    dataDb: path.join(dir, 'data.db'),
    pidFile: path.join(dir, 'pid'),
    logsDir: path.join(dir, 'logs'),
  };
}

/** The supervisor's name for the data API companion (`cellctl cell-agent`) of a cell that runs its own command. */
export const DATA_AGENT_SUFFIX = '.data';
export const dataAgentName = (cellId: string): string => `${cellId}${DATA_AGENT_SUFFIX}`;
/** The cell a companion serves, or null when `name` is not a companion's (cell names have no dot). */
export const agentCell = (name: string): string | null => (name.endsWith(DATA_AGENT_SUFFIX) ? name.slice(0, -DATA_AGENT_SUFFIX.length) : null);

/** Where a supervised process (the router, a cell, a cell's data companion) keeps its pid file and logs. */
export function processPaths(home: string, name: string): { pidFile: string; logFile: string; logsDir: string } {
  if (name === 'router') {
    const dir = workspacePaths(home).routerDir;
    return { pidFile: path.join(dir, 'pid'), logsDir: dir, logFile: path.join(dir, 'router.log') };
  }
  if (name === 'supervisor') {
    const dir = workspacePaths(home).supervisorDir;
    return { pidFile: path.join(dir, 'pid'), logsDir: dir, logFile: path.join(dir, 'supervisor.log') };
  }
  const served = agentCell(name);
  if (served !== null) {
    const cell = cellPaths(home, served);
    return { pidFile: path.join(cell.dir, 'data.pid'), logsDir: cell.logsDir, logFile: path.join(cell.logsDir, 'data.log') };
  }
  const cell = cellPaths(home, name);
  return { pidFile: cell.pidFile, logsDir: cell.logsDir, logFile: path.join(cell.logsDir, 'cell.log') };
}
