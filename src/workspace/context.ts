// An operator's folder for a swarm workspace: what the CLI reads to drive it from another machine
// (cellctl.json, the secrets, each cell's cell.json), copied with the owner's modes (files 0600,
// folders 0700). The processes live on the engine and the state in PostgreSQL, so the copy is a
// complete workspace there: every command acts on the engine, none on a local supervisor.
import fs from 'node:fs';
import path from 'node:path';
import { usageError } from '../shared/errors.js';
import { readSettings } from './workspace.js';
import { cellPaths, workspacePaths } from './paths.js';

/** Copies the workspace at `home` into `dir` (new or empty). */
export function exportContext(home: string, dir: string): { dir: string; files: number } {
  const settings = readSettings(home);
  if (settings.runtime !== 'swarm') {
    throw usageError(
      settings.runtime === 'local'
        ? 'this workspace runs on the local supervisor: its processes and data are on this machine, so there is no folder to drive it from elsewhere'
        : "a docker workspace is driven from its engine's host: its cells' addresses are on the engine's bridge network and its router publishes on that host; the swarm runtime is the one with an operator's folder",
    );
  }
  const target = path.resolve(dir);
  if (fs.existsSync(target) && (!fs.statSync(target).isDirectory() || fs.readdirSync(target).length > 0)) {
    throw usageError(`${target} exists and is not an empty folder: give a new or empty folder`);
  }
  const from = workspacePaths(home);
  const wanted = [from.settings, ...walk(from.secretsDir), ...cellDescriptors(home)];
  let files = 0;
  fs.mkdirSync(target, { recursive: true, mode: 0o700 });
  fs.chmodSync(target, 0o700);
  for (const file of wanted) {
    const copy = path.join(target, path.relative(home, file));
    fs.mkdirSync(path.dirname(copy), { recursive: true, mode: 0o700 });
    fs.copyFileSync(file, copy);
    fs.chmodSync(copy, 0o600);
    files += 1;
  }
  return { dir: target, files };
}

function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(full) : entry.isFile() ? [full] : [];
  });
}

/** Each cell's cell.json (a cell's folder is <home>/<cell>). */
function cellDescriptors(home: string): string[] {
  return fs
    .readdirSync(home, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => cellPaths(home, entry.name).descriptor)
    .filter((file) => fs.existsSync(file));
}
