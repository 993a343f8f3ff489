// What `migrate show` prints of a migration's recorded detail: one line per field, no raw JSON.
import { describe, expect, it } from 'vitest';
import { detailLines } from '../../src/cli/handlers/migrate-admin.js';

describe('migrate show', () => {
  it('prints what the steps recorded as name: value lines', () => {
    expect(
      detailLines({
        fence: 'router',
        barrier: true,
        fenceId: 'f3d4',
        rows: { customers: 1, orders: 2 },
        checksums: { customers: 3012592743 },
        cells: ['a', 'b'],
      }),
    ).toEqual(['  fence: router', '  barrier: true', '  fenceId: f3d4', '  rows: customers 1, orders 2', '  checksums: customers 3012592743', '  cells: a, b']);
    expect(detailLines({})).toEqual([]);
  });
});
