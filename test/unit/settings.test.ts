import { describe, expect, it } from 'vitest';
import { parseValue } from '../../src/cli/handlers/config.js';
import { diffRouterSettings } from '../../src/router/live-settings.js';
import { defaultSettings, exposureWarning } from '../../src/workspace/settings.js';

describe('router settings changes', () => {
  const base = defaultSettings(8000);
  it('applies auth, placement and request limits live; ports, host and socket limits on a router restart', () => {
    const next = {
      ...base,
      auth: 'jwt' as const,
      placementTemplate: 'basic',
      routerHost: '0.0.0.0',
      routerAdminHost: '10.0.0.5',
      limits: { ...base.limits, maxBodyBytes: 10, requestTimeoutMs: 5 },
    };
    expect(diffRouterSettings(base, next)).toEqual({
      applied: ['auth', 'limits.maxBodyBytes', 'placementTemplate'],
      needsRestart: ['limits.requestTimeoutMs', 'routerAdminHost', 'routerHost'],
    });
  });
  it('never loosens authentication live: turning JWT off or accepting tokens without exp waits for a restart', () => {
    const jwt = { ...base, auth: 'jwt' as const };
    expect(diffRouterSettings(jwt, { ...jwt, auth: 'none' as const })).toEqual({ applied: [], needsRestart: ['auth'] });
    expect(diffRouterSettings(jwt, { ...jwt, jwtRequireExp: false })).toEqual({ applied: [], needsRestart: ['jwtRequireExp'] });
    expect(diffRouterSettings({ ...jwt, jwtRequireExp: false }, jwt)).toEqual({ applied: ['jwtRequireExp'], needsRestart: [] });
  });
  it('ignores what the router does not read', () => {
    const next = { ...base, templatePaths: ['/x'], supervisor: { ...base.supervisor, backoffMaxMs: 1 } };
    expect(diffRouterSettings(base, next)).toEqual({ applied: [], needsRestart: [] });
  });
});

describe('exposure', () => {
  it('warns only for a non-loopback host without auth', () => {
    expect(exposureWarning({ routerHost: '127.0.0.1', auth: 'none' })).toBeNull();
    expect(exposureWarning({ routerHost: '0.0.0.0', auth: 'jwt' })).toBeNull();
    expect(exposureWarning({ routerHost: '0.0.0.0', auth: 'none' })).toMatch(/auth/);
  });
});

describe('config values', () => {
  it('reads JSON when it parses, text otherwise', () => {
    expect(parseValue('200')).toBe(200);
    expect(parseValue('null')).toBeNull();
    expect(parseValue('jwt')).toBe('jwt');
    expect(parseValue('0.0.0.0')).toBe('0.0.0.0');
  });
});
