// The workspace's secrets: a router admin token and a JWT signing key, made at init, mode 0600.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { failure } from '../shared/errors.js';
import path from 'node:path';
import { cellTokenFile, workspacePaths } from './paths.js';

export function createSecrets(home: string): void {
  const paths = workspacePaths(home);
  fs.mkdirSync(paths.secretsDir, { recursive: true, mode: 0o700 });
  writeSecret(paths.adminToken, randomBytes(32).toString('base64url'));
  writeSecret(paths.jwtKey, randomBytes(32).toString('base64url'));
}

function writeSecret(file: string, value: string): void {
  // 'wx' never overwrites an existing secret: tokens already handed out keep working.
  fs.writeFileSync(file, value + '\n', { mode: 0o600, flag: 'wx' });
}

function readSecret(file: string, what: string): string {
  let value: string;
  try {
    value = fs.readFileSync(file, 'utf8').trim();
  } catch {
    throw failure(`cannot read the ${what} at ${file}: the workspace is incomplete; run "cellctl init" on a new --home or restore the file`);
  }
  if (value.length < 16) throw failure(`the ${what} at ${file} is too short: restore it from a backup or re-create the workspace`);
  return value;
}

export function readAdminToken(home: string): string {
  return readSecret(workspacePaths(home).adminToken, 'router admin token');
}

export function readJwtKey(home: string): Uint8Array {
  return new TextEncoder().encode(readSecret(workspacePaths(home).jwtKey, 'JWT signing key'));
}

/** Makes a cell's data API token (a new random one, or `given`, a registered cell's). */
export function createCellToken(home: string, cellId: string, given?: string): void {
  const file = cellTokenFile(home, cellId);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.rmSync(file, { force: true });
  writeSecret(file, given ?? randomBytes(32).toString('base64url'));
}

export function readCellToken(home: string, cellId: string): string {
  return readSecret(cellTokenFile(home, cellId), `data API token of cell ${cellId}`);
}

export function removeCellToken(home: string, cellId: string): void {
  fs.rmSync(cellTokenFile(home, cellId), { force: true });
}

/** Stores the PostgreSQL control plane's URL (it may hold a password): mode 0600, replacing any earlier one. */
export function writeControlUrl(home: string, url: string): void {
  const file = workspacePaths(home).controlUrl;
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, url.trim() + '\n', { mode: 0o600 });
  fs.renameSync(temporary, file);
}

/**
 * Where the workspace's control plane is: the PostgreSQL URL in secrets/control-url when there is
 * one, else the control.db path. The URL is a secret: print it only through printableLocation.
 */
export function controlLocation(home: string): string {
  const paths = workspacePaths(home);
  let url: string;
  try {
    url = fs.readFileSync(paths.controlUrl, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return paths.controlDb;
    throw failure(`cannot read ${paths.controlUrl}: ${(error as Error).message}; restore it (one PostgreSQL URL, mode 0600)`);
  }
  if (url === '') throw failure(`${paths.controlUrl} is empty: write the PostgreSQL URL into it (mode 0600), or remove it to use control.db`);
  return url;
}
