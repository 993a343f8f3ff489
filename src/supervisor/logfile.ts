// Log files of supervised processes. A child writes straight to its log file (so it outlives a
// supervisor crash); the supervisor rotates by size with copy-and-truncate, keeping a few old files.
import fs from 'node:fs';

export const LOG_MAX_BYTES = 10 * 1024 * 1024;
export const LOG_KEEP = 3;

export function openLogFd(file: string): number {
  return fs.openSync(file, 'a', 0o600);
}

/** Rotates `file` when it is larger than `maxBytes`: file → file.1 → file.2 ... */
export function rotateIfLarge(file: string, maxBytes = LOG_MAX_BYTES, keep = LOG_KEEP): boolean {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return false;
  }
  if (size <= maxBytes) return false;
  for (let index = keep - 1; index >= 1; index -= 1) {
    if (fs.existsSync(`${file}.${index}`)) fs.renameSync(`${file}.${index}`, `${file}.${index + 1}`);
  }
  fs.copyFileSync(file, `${file}.1`);
  // The writer opened the file with O_APPEND, so after truncation it goes on at the new end.
  fs.truncateSync(file, 0);
  return true;
}

/** The last `count` lines of a file (reads only its tail). */
export function tailLines(file: string, count: number): string[] {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = fs.fstatSync(fd).size;
    let position = size;
    let text = '';
    const chunk = Buffer.alloc(64 * 1024);
    while (position > 0 && text.split('\n').length <= count + 1) {
      const length = Math.min(chunk.length, position);
      position -= length;
      fs.readSync(fd, chunk, 0, length, position);
      text = chunk.subarray(0, length).toString('utf8') + text;
    }
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-count);
  } finally {
    fs.closeSync(fd);
  }
}
