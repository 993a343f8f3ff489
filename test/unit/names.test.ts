import { describe, expect, it } from 'vitest';
import { checkCellName, checkCustomerId, parseDuration, parsePort, parsePositiveInt } from '../../src/shared/names.js';
import { cellPaths, processPaths, workspacePaths } from '../../src/workspace/paths.js';
import { settingsSchema, defaultSettings } from '../../src/workspace/settings.js';

describe('name rules', () => {
  it.each(['a', 'cell-1', 'eu-west-2a', 'x'.repeat(63)])('accepts the cell name %s', (name) => expect(checkCellName(name)).toBe(name));
  it.each(['', 'Cell', '1cell', '-a', 'a_b', 'a.b', 'x'.repeat(64), 'router', 'secrets'])('refuses the cell name "%s"', (name) =>
    expect(() => checkCellName(name)).toThrow(/cell name|reserved/),
  );
  it.each(['c-0001', 'ACME_corp', 'a', 'alice@example.com', 'cust.1', 'x'.repeat(128), '...', 'a:b'])('accepts the customer id %s', (id) =>
    expect(checkCustomerId(id)).toBe(id),
  );
  it.each(['', 'a b', 'a/b', 'a\\b', 'x'.repeat(129), 'é', '.', '..', 'a%2fb', 'a?b', 'a#b'])('refuses the customer id "%s"', (id) =>
    expect(() => checkCustomerId(id)).toThrow(/customer id/),
  );
  it.each(['80', '0', '70000', '12.5', 'abc', '-1'])('refuses the port %s with exit code 2', (port) => {
    try {
      parsePort(port);
      expect.unreachable();
    } catch (error) {
      expect((error as { exitCode: number }).exitCode).toBe(2);
    }
  });
  it('parses ports, counts and durations', () => {
    expect(parsePort('8000')).toBe(8000);
    expect(parsePositiveInt('3', '--cells')).toBe(3);
    expect(() => parsePositiveInt('0', '--cells')).toThrow(/--cells/);
    expect(parseDuration('90s', 'x')).toBe(90_000);
    expect(parseDuration('24h', 'x')).toBe(86_400_000);
    expect(() => parseDuration('soon', '--keep-source')).toThrow(/--keep-source/);
  });
});

describe('workspace layout', () => {
  it('places every file where DESIGN.md says', () => {
    const ws = workspacePaths('/w');
    expect([ws.settings, ws.controlDb, ws.adminToken, ws.jwtKey]).toEqual(['/w/cellctl.json', '/w/control.db', '/w/secrets/admin-token', '/w/secrets/jwt-key']);
    const cell = cellPaths('/w', 'cell-1');
    expect([cell.descriptor, cell.dataDb, cell.pidFile]).toEqual(['/w/cell-1/cell.json', '/w/cell-1/data.db', '/w/cell-1/pid']);
    expect(processPaths('/w', 'router')).toMatchObject({ pidFile: '/w/router/pid', logFile: '/w/router/router.log' });
    expect(processPaths('/w', 'cell-1').logFile).toBe('/w/cell-1/logs/cell.log');
  });

  it('defaults settings and rejects unknown fields', () => {
    const settings = defaultSettings(8000);
    expect(settings).toMatchObject({ routerPort: 8000, routerAdminPort: 8001, auth: 'none', placement: 'hash' });
    expect(settings.limits.maxBodyBytes).toBe(1024 * 1024);
    expect(settingsSchema.safeParse({ ...settings, routerPrt: 1 }).success).toBe(false);
    expect(settingsSchema.safeParse({ ...settings, auth: 'basic' }).success).toBe(false);
  });
});
