// The workspace holds personal data (customer rows, logs, secrets): whatever cellctl writes there is
// for its user alone — files 0600, folders 0700.
import fs from 'node:fs';
import path from 'node:path';

/**
 * Every cellctl process calls this first: files and folders it (and SQLite, and its children, which
 * inherit the mask) creates from then on are private, whatever mode the code or a library asks for.
 */
export function keepFilesPrivate(): void {
  process.umask(0o077);
}

/** Takes group and other access off everything under `dir` (a workspace made by an older cellctl). */
export function tightenModes(dir: string): void {
  tighten(dir);
  for (const entry of safeReaddir(dir)) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) tightenModes(full);
    else if (entry.isFile()) tighten(full);
  }
}

function tighten(file: string): void {
  try {
    const mode = fs.statSync(file).mode & 0o7777;
    if ((mode & 0o077) !== 0) fs.chmodSync(file, mode & ~0o077);
  } catch {
    // gone meanwhile, or not ours to change: nothing to tighten
  }
}

function safeReaddir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}
