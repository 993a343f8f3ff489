// Times in the cells' answers take the examples' form (Python's datetime.utcnow().isoformat()):
// stored rows keep ISO 8601 in UTC with a Z, which sorts as text; answers drop the zone and carry
// six fraction digits, for rows written before the change too.
import { describe, expect, it } from 'vitest';
import { apiTime, apiTimes } from '../../src/cell/apps/customers.js';

describe('apiTime', () => {
  it('turns a stored time into the examples form: no zone, six fraction digits', () => {
    expect(apiTime('2026-12-07T04:01:02.232Z')).toBe('2026-12-07T04:01:02.232000');
    expect(apiTime('2026-12-07T04:01:02Z')).toBe('2026-12-07T04:01:02.000000');
    expect(apiTime('2026-12-07T04:01:02.123456789Z')).toBe('2026-12-07T04:01:02.123456');
  });

  it('leaves what is not a stored time as it is (a time already in that form, a user value)', () => {
    expect(apiTime('2026-12-07T04:01:02.578201')).toBe('2026-12-07T04:01:02.578201');
    expect(apiTime('tomorrow')).toBe('tomorrow');
  });

  it('changes only the …_at fields of a row', () => {
    expect(apiTimes({ created_at: '2026-12-07T04:01:02.232Z', note: '2026-12-07T04:01:02.232Z', quantity: 2 })).toEqual({
      created_at: '2026-12-07T04:01:02.232000',
      note: '2026-12-07T04:01:02.232Z',
      quantity: 2,
    });
  });
});
