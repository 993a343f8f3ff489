// The README's first commands work as printed on a fresh `cellctl up`: its move goes to a cell that
// c-0001 is not in. up makes cell-1..cell-3 and places customers by rendezvous hash, which is
// deterministic, so the cell c-0001 lands in is known here.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rendezvousCell } from '../../src/control/placement.js';

const README = fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

describe("the README's first commands", () => {
  it('move c-0001 to a cell it is not in after up', () => {
    const cells = ['cell-1', 'cell-2', 'cell-3'];
    const targets = [...README.matchAll(/migrate customer c-0001 --to (\S+)/g)].map((match) => match[1]);
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) {
      expect(cells).toContain(target);
      expect(target).not.toBe(rendezvousCell('c-0001', cells));
    }
  });
});
