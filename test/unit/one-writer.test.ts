// Columns with one writer: whoever else needs the value reads it. cells.first_healthy_at (a cell
// enters placement) is written by routers alone: they see every cell, whoever runs it.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.join(import.meta.dirname, '..', '..', 'src');

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? files(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The files outside control/ (the stores that implement it) that call `method`. */
function callersOf(method: string): string[] {
  const call = new RegExp(`\\.${method}\\(`);
  return files(SRC)
    .filter((file) => !file.startsWith(path.join(SRC, 'control') + path.sep) && call.test(fs.readFileSync(file, 'utf8')))
    .map((file) => path.relative(SRC, file).split(path.sep).join('/'))
    .sort();
}

describe('one writer per column', () => {
  it('cells.first_healthy_at: only the router marks a cell healthy', () => {
    expect(callersOf('markCellHealthy')).toEqual(['router/control-link.ts', 'router/router.ts']);
  });
});
