// Tables for people: on a terminal they fit its width, the widest columns giving way first, wrapped
// only between words, so a URL, a quoted command or an escape code is never broken; into a pipe
// nothing wraps.
import { describe, expect, it } from 'vitest';
import { fitColumns, renderTable, wrapCell, wrapUnits } from '../../src/cli/output.js';

describe('fitColumns', () => {
  it.each([
    ['a table that fits is left alone', [10, 20, 30], 80, [], null],
    ['the widest column gives way', [10, 20, 60], 80, [], [10, 20, 46]],
    ['two wide columns share the cut', [10, 40, 40], 60, [], [10, 23, 23]],
    ['no column goes below the floor', [10, 10, 10], 20, [], [6, 6, 6]],
    ['no column goes below its longest piece', [10, 40, 40], 60, [0, 30, 0], [10, 30, 16]],
  ] as const)('%s', (_what, natural, limit, floors, expected) => {
    expect(fitColumns(natural, limit, 6, floors)).toEqual(expected);
  });
});

const URL = 'http://router-two.cells.example.internal:18001';
const COMMAND = '"cellctl customers purge c-0042 --cell cell-2 --yes"';
const ESCAPE = /\u001b\[[0-9;]*m/g;

describe('renderTable', () => {
  const routers = {
    head: ['router', 'state', 'note', 'admin URL'],
    rows: [['r2:8000', '\u001b[32mlive\u001b[39m', 'heartbeat 0.4 s ago, mapping confirmed 0.2 s ago, 3 fences held, 0 refused', URL]],
  };
  const audit = {
    head: ['problem', 'customer', 'advice'],
    rows: [['\u001b[31mstray\u001b[39m', 'c-0042', `a copy remains in cell-2 after a move; run ${COMMAND} to remove it`]],
  };
  const fits = (table: string) => {
    for (const line of table.split('\n')) expect(line.replace(ESCAPE, '').length, line).toBeLessThanOrEqual(80);
    // Every escape whole: nothing left of one once the whole ones are removed.
    expect(table.replace(ESCAPE, '')).not.toMatch(/\u001b|\[\d+m/);
  };

  it('on an 80-column terminal: fits, and never breaks a URL, a quoted command or an escape code', () => {
    const table = renderTable(routers.head, routers.rows, { width: 80 });
    fits(table);
    expect(table).toContain(URL);
    expect(table).toContain('\u001b[32mlive\u001b[39m');
    const advice = renderTable(audit.head, audit.rows, { width: 80 });
    fits(advice);
    expect(advice).toContain(COMMAND);
  });

  it('a piece wider than the terminal keeps its line whole (the line is then wider than the terminal)', () => {
    const table = renderTable(['url'], [[`${URL}/${'x'.repeat(60)}`]], { width: 40 });
    expect(table).toContain(`${URL}/${'x'.repeat(60)}`);
  });

  it('into a pipe or a file nothing wraps: one line per row', () => {
    const table = renderTable(audit.head, audit.rows, { width: null });
    expect(table.split('\n').filter((line) => line.includes('c-0042'))).toHaveLength(1);
    expect(table).toContain(audit.rows[0]![2]);
  });
});

describe('wrapCell', () => {
  it('breaks between words only, a quoted phrase and a cell that is a command being one piece', () => {
    expect(wrapUnits('run "cellctl stop c1" now')).toEqual(['run', '"cellctl stop c1"', 'now']);
    expect(wrapUnits('cellctl migrate resume 7')).toEqual(['cellctl migrate resume 7']);
    expect(wrapCell('one two three four', 9)).toBe('one two\nthree\nfour');
    expect(wrapCell('a `cellctl drain c1 --yes` b', 8)).toBe('a\n`cellctl drain c1 --yes`\nb');
    // A plain word longer than the column (an id) is cut; a URL is not.
    expect(wrapCell('id-0123456789 x', 6)).toBe('id-012\n345678\n9 x');
    expect(wrapCell('see http://10.0.0.2:8001', 6)).toBe('see\nhttp://10.0.0.2:8001');
  });
});
