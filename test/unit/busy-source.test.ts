// The source purge's retry while the source's database is busy (src/migration/busy-source.ts).
import { describe, expect, it } from 'vitest';
import { DataApiError } from '../../src/data/client.js';
import { purgeWhileBusy } from '../../src/migration/busy-source.js';

const busy = () => new DataApiError('the data API of cell a answered 503 database_busy: the database is busy; retry shortly', 503, 'database_busy');

describe('purgeWhileBusy', () => {
  it('retries a busy source with growing waits and returns once the lock is gone', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await purgeWhileBusy(
      async () => {
        calls += 1;
        if (calls < 4) throw busy();
        return 'purged';
      },
      { boundMs: 60_000, cell: 'a', migrationId: 7, sleep: async (ms) => void waits.push(ms) },
    );
    expect(result).toBe('purged');
    expect(waits).toEqual([250, 500, 1_000]);
  });

  it('stops within its bound with a message naming the cell, the lock and migrate resume', async () => {
    const attempt = purgeWhileBusy(
      async () => {
        throw busy();
      },
      { boundMs: 0, cell: 'a', migrationId: 7, sleep: async () => {} },
    );
    await expect(attempt).rejects.toMatchObject({
      code: 'E_DATABASE_BUSY',
      message: expect.stringMatching(/cell a.*locked by another writer.*migrate resume 7/),
    });
  });

  it('passes any other error on at once', async () => {
    const other = new DataApiError('answered 409 stale_owner', 409, 'stale_owner');
    await expect(
      purgeWhileBusy(
        async () => {
          throw other;
        },
        { boundMs: 60_000, cell: 'a', migrationId: 7, sleep: async () => {} },
      ),
    ).rejects.toBe(other);
  });
});
