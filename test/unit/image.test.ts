// The pure parts of cellctl's image: the role contract its health check reads.
import { describe, expect, it } from 'vitest';
import { healthTarget } from '../../src/image/roles.js';

describe('the health check finds what to probe from the role', () => {
  it.each([
    [{ CELLCTL_ROLE: 'cell', PORT: '9100' }, 'http://127.0.0.1:9100/health'],
    [{ CELLCTL_ROLE: 'cell', PORT: '9100', CELLCTL_HEALTH_PATH: '/healthz' }, 'http://127.0.0.1:9100/healthz'],
    [{ CELLCTL_ROLE: 'router', CELLCTL_ROUTER_PORT: '8000', PORT: '1' }, 'http://127.0.0.1:8000/health'],
    [{ CELLCTL_ROLE: 'agent', CELLCTL_DATA_PORT: '9101', CELLCTL_HEALTH_PATH: '/ignored' }, 'http://127.0.0.1:9101/health'],
  ])('%o → %s', (env, url) => {
    expect(healthTarget(env)).toMatchObject({ ok: true, role: env.CELLCTL_ROLE, url });
  });

  it.each([
    [{}, /^CELLCTL_ROLE is not set/],
    [{ CELLCTL_ROLE: '' }, /^CELLCTL_ROLE is not set/],
    [{ CELLCTL_ROLE: 'database', PORT: '1' }, /^CELLCTL_ROLE is "database": it must be one of cell, router, agent/],
    [{ CELLCTL_ROLE: 'toString' }, /^CELLCTL_ROLE is "toString"/],
    [{ CELLCTL_ROLE: 'cell' }, /^PORT is not set/],
    [{ CELLCTL_ROLE: 'router', PORT: '8000' }, /^CELLCTL_ROUTER_PORT is not set/],
    [{ CELLCTL_ROLE: 'agent' }, /^CELLCTL_DATA_PORT is not set/],
    [{ CELLCTL_ROLE: 'cell', PORT: '70000' }, /^PORT is "70000": not a port/],
    [{ CELLCTL_ROLE: 'cell', PORT: '0' }, /^PORT is "0": not a port/],
    [{ CELLCTL_ROLE: 'cell', PORT: '80 ' }, /^PORT is "80 ": not a port/],
    [{ CELLCTL_ROLE: 'cell', PORT: '80', CELLCTL_HEALTH_PATH: 'health' }, /^CELLCTL_HEALTH_PATH is "health"/],
  ])('%o is refused: %s', (env, problem) => {
    const target = healthTarget(env);
    expect(target.ok).toBe(false);
    expect(!target.ok && target.problem).toMatch(problem);
  });
});
