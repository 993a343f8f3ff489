import { describe, expect, it } from 'vitest';
import { MappingConfirmation } from '../../src/router/confirmation.js';

describe('the router confirms its mapping', () => {
  it('answers for customers only while both a heartbeat and a mapping read were sent within the bound', () => {
    const confirmation = new MappingConfirmation(3_000, 0);
    expect(confirmation.validUntil).toBe(-Infinity);
    confirmation.mappingRead(100);
    expect(confirmation.validUntil).toBe(-Infinity); // no heartbeat yet: no mover knows it
    confirmation.heartbeatWritten(200);
    expect(confirmation.validUntil).toBe(3_100); // the older of the two counts
    confirmation.mappingRead(1_100);
    expect(confirmation.validUntil).toBe(3_200);
  });

  it('counts a read by when it was sent: an answer that arrives late (a pause) confirms nothing newer', () => {
    const confirmation = new MappingConfirmation(3_000, 0);
    confirmation.heartbeatWritten(5_000);
    confirmation.mappingRead(5_000);
    // Sent before the pause, answered after it: reported with its old send time.
    confirmation.heartbeatWritten(1_000);
    confirmation.mappingRead(1_000);
    expect(confirmation.validUntil).toBe(8_000);
  });

  it('a bound changed in cellctl.json applies at once', () => {
    const confirmation = new MappingConfirmation(3_000, 0);
    confirmation.heartbeatWritten(1_000);
    confirmation.mappingRead(1_000);
    confirmation.setBound(1_500);
    expect([confirmation.validUntil, confirmation.bound]).toEqual([2_500, 1_500]);
  });

  it('tells health when it was confirmed, or since when it refuses', () => {
    const wall = Date.parse('2030-01-01T00:00:10.000Z');
    const confirmation = new MappingConfirmation(3_000, 0);
    expect(confirmation.state(500, wall)).toEqual({ confirmed: false, confirmedAt: null, unconfirmedSince: '2030-01-01T00:00:09.500Z' });
    confirmation.heartbeatWritten(1_000);
    confirmation.mappingRead(2_000);
    expect(confirmation.state(3_000, wall)).toEqual({ confirmed: true, confirmedAt: '2030-01-01T00:00:08.000Z' });
    expect(confirmation.state(6_000, wall)).toEqual({
      confirmed: false,
      confirmedAt: '2030-01-01T00:00:05.000Z',
      unconfirmedSince: '2030-01-01T00:00:08.000Z',
    });
  });
});
