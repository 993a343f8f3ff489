// What `docker service logs` gives, read: a node the swarm manager cannot reach leaves its tasks'
// lines out (docker exits 1 with "incomplete log stream"); the rest is kept and what is missing said.
// Any other failure is an error. (The swarm itself is in test/engine/swarm-runtime.test.ts.)
import { describe, expect, it } from 'vitest';
import { serviceLogRead } from '../../src/engine/swarm.js';

const INCOMPLETE =
  'error from daemon in stream: Error grabbing logs: rpc error: code = Unknown desc = warning: incomplete log stream. some logs could not be retrieved for the following reasons: node mn1l10ppifj7nm4h38qcd8u0x is not available\n';

describe("a swarm service's log", () => {
  it('keeps the lines of the nodes it reached and says which node it could not read', () => {
    const read = serviceLogRead('svc', { code: 1, stdout: '{"msg":"a"}\n', stderr: `cell c1 serving on :8100\n${INCOMPLETE}` });
    expect(read).toEqual({ lines: ['{"msg":"a"}', 'cell c1 serving on :8100'], missing: 'node mn1l10ppifj7nm4h38qcd8u0x is not available' });
  });

  it('is whole when docker says nothing is missing, and any other failure is an error', () => {
    expect(serviceLogRead('svc', { code: 0, stdout: 'x\n', stderr: '' })).toEqual({ lines: ['x'], missing: null });
    expect(() => serviceLogRead('svc', { code: 1, stdout: '', stderr: 'Error: No such service: svc\n' })).toThrow(
      /docker service logs svc failed: Error: No such service: svc/,
    );
  });
});
