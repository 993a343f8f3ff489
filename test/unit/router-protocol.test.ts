// The router's admin API bodies, as both ends parse them (protocol.ts).
import { describe, expect, it } from 'vitest';
import { confirmFenceRequest, fenceRequest, unfenceRequest } from '../../src/router/protocol.js';

describe('admin API request bodies', () => {
  it.each([
    [fenceRequest, { customerIds: ['a'], fenceId: 'f1' }, true],
    [fenceRequest, { customerIds: ['a'], fenceId: 'f1', leaseMs: 1000, drainTimeoutMs: 500 }, true],
    [fenceRequest, { customerIds: [], fenceId: 'f1' }, false],
    [fenceRequest, { customerIds: ['a'], fenceId: '' }, false],
    [fenceRequest, { customerIds: ['a'], fenceId: 'f1', extra: 1 }, false],
    [confirmFenceRequest, { customerIds: ['a'], fenceId: 'f1', leaseMs: 1000 }, true],
    [confirmFenceRequest, { customerIds: ['a'], fenceId: 'f1', leaseMs: -1 }, false],
    [unfenceRequest, { customerIds: ['a', 'b'] }, true],
    [unfenceRequest, { customerIds: [''] }, false],
  ] as const)('%#: parses %j: %s', (schema, body, ok) => {
    expect(schema.safeParse(body).success).toBe(ok);
  });
});
