// Tables for people fit the terminal: the widest columns give way first, none below a floor.
import { describe, expect, it } from 'vitest';
import { fitColumns } from '../../src/cli/output.js';

describe('fitColumns', () => {
  it.each([
    ['a table that fits is left alone', [10, 20, 30], 80, null],
    ['the widest column gives way', [10, 20, 60], 80, [10, 20, 46]],
    ['two wide columns share the cut', [10, 40, 40], 60, [10, 23, 23]],
    ['no column goes below the floor', [10, 10, 10], 20, [6, 6, 6]],
  ] as const)('%s', (_what, natural, limit, expected) => {
    expect(fitColumns(natural, limit)).toEqual(expected);
  });
});
