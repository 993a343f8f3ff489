import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openLogFd, rotateIfLarge, tailLines } from '../../src/supervisor/logfile.js';
import { cleanup, tempDir } from '../helpers.js';

afterAll(cleanup);

describe('log files', () => {
  it('rotates by size, keeping a few old files, while the writer goes on appending', () => {
    const file = path.join(tempDir(), 'cell.log');
    const fd = openLogFd(file);
    for (let round = 0; round < 4; round += 1) {
      fs.writeSync(fd, `round ${round}\n`.repeat(20));
      expect(rotateIfLarge(file, 100, 2)).toBe(true);
    }
    fs.writeSync(fd, 'after\n');
    fs.closeSync(fd);
    expect(fs.readFileSync(file, 'utf8')).toBe('after\n');
    expect(fs.readFileSync(`${file}.1`, 'utf8')).toContain('round 3');
    expect(fs.readFileSync(`${file}.2`, 'utf8')).toContain('round 2');
    expect(fs.existsSync(`${file}.3`)).toBe(false);
    expect(rotateIfLarge(file, 100, 2)).toBe(false);
  });

  it('makes log files, rotated ones included, readable by their user alone', () => {
    const file = path.join(tempDir(), 'cell.log');
    fs.closeSync(openLogFd(file));
    fs.writeFileSync(file, 'x'.repeat(200));
    expect(rotateIfLarge(file, 100, 2)).toBe(true);
    expect([fs.statSync(file).mode & 0o777, fs.statSync(`${file}.1`).mode & 0o777]).toEqual([0o600, 0o600]);
  });

  it('reads only the last lines of a large file', () => {
    const file = path.join(tempDir(), 'big.log');
    fs.writeFileSync(file, Array.from({ length: 50_000 }, (_, i) => `line ${i}`).join('\n') + '\n');
    expect(tailLines(file, 3)).toEqual(['line 49997', 'line 49998', 'line 49999']);
    expect(tailLines(path.join(tempDir(), 'missing.log'), 3)).toEqual([]);
  });
});
