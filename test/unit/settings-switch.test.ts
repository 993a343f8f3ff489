// The router's settings: which version a reload moves to (settingsInForce), and the one path every
// change takes (SettingsSwitch): built whole, swapped whole, applied once per edit.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ROUTER_RESTART_SETTINGS, settingsInForce } from '../../src/router/live-settings.js';
import { SettingsSwitch } from '../../src/router/settings-switch.js';
import { defaultSettings, type Settings } from '../../src/workspace/settings.js';

const base = defaultSettings(8000);

describe('settingsInForce', () => {
  it('takes every live setting from the file and keeps every restart-only one as the router started', () => {
    const next: Settings = {
      ...base,
      routerPort: 1,
      routerAdminPort: 2,
      routerHost: '0.0.0.0',
      routerAdminHost: '10.0.0.5',
      routerHeartbeatMs: 7,
      accessLog: true,
      limits: { ...base.limits, maxBodyBytes: 10, requestTimeoutMs: 5, maxBufferedBytes: 6, fenceHoldMs: 8, fenceQueueLimit: 9 },
    };
    const { settings, applied, needsRestart } = settingsInForce(base, base, next);
    expect(settings.accessLog).toBe(true);
    expect(settings.limits.maxBodyBytes).toBe(10);
    for (const dotted of ROUTER_RESTART_SETTINGS) {
      const read = (from: Settings) => dotted.split('.').reduce<unknown>((at, key) => (at as Record<string, unknown>)[key], from);
      expect(read(settings), dotted).toEqual(read(base));
    }
    expect(applied).toEqual(['accessLog', 'limits.maxBodyBytes']);
    expect(needsRestart).toEqual([...ROUTER_RESTART_SETTINGS].sort());
    // The file's object is not the one in force: a later change to it changes nothing running.
    expect(settings.limits).not.toBe(next.limits);
  });

  it('keeps enforcing authentication a reload would loosen, and still lists it after a second reload', () => {
    const jwt: Settings = { ...base, auth: 'jwt' };
    const first = settingsInForce(jwt, jwt, { ...jwt, auth: 'none', accessLog: true });
    expect(first.settings.auth).toBe('jwt');
    expect(first.needsRestart).toEqual(['auth']);
    const second = settingsInForce(jwt, first.settings, { ...jwt, auth: 'none', accessLog: false });
    expect(second.settings.auth).toBe('jwt');
    expect(second.needsRestart).toEqual(['auth']);
  });
});

describe('SettingsSwitch', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A switch over a real file; `built` counts what each version built. */
  function over(initial: Settings) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switch-'));
    dirs.push(dir);
    const file = path.join(dir, 'cellctl.json');
    const write = (settings: Settings, size = 0) => fs.writeFileSync(file, JSON.stringify(settings) + ' '.repeat(size));
    write(initial);
    const builds: { body: number; previous: number | null }[] = [];
    const load = () => JSON.parse(fs.readFileSync(file, 'utf8')) as Settings;
    const inForce = new SettingsSwitch<number>({
      startedWith: initial,
      build: (settings, previous) => {
        builds.push({ body: settings.limits.maxBodyBytes, previous });
        return builds.length;
      },
      load,
      file,
      log: pino({ level: 'silent' }),
    });
    return { inForce, builds, write, file };
  }

  it('builds a new version whole on a reload and never changes the one in force', () => {
    const { inForce, builds, write } = over(base);
    const first = inForce.current;
    const firstLimits = structuredClone(first.settings.limits);
    write({ ...base, limits: { ...base.limits, maxBodyBytes: 123 } });
    expect(inForce.reload()).toEqual({ applied: ['limits.maxBodyBytes'], needsRestart: [] });
    expect(inForce.current).not.toBe(first);
    expect(inForce.current.settings.limits.maxBodyBytes).toBe(123);
    expect(first.settings.limits).toEqual(firstLimits);
    expect(builds).toEqual([
      { body: base.limits.maxBodyBytes, previous: null },
      { body: 123, previous: 1 },
    ]);
  });

  it('applies one edit once: the watch does not apply again what a reload already read', () => {
    const { inForce, builds, write } = over(base);
    write({ ...base, accessLog: true });
    inForce.reload();
    inForce.watch();
    inForce.watch();
    expect(builds).toHaveLength(2);
    // An edit after that reload is the watch's to apply.
    write({ ...base, accessLog: false }, 10);
    inForce.watch();
    expect(builds).toHaveLength(3);
    expect(inForce.current.settings.accessLog).toBe(false);
  });

  it('tells the reload after an edit what the edit changed, also when the watch applied it first', () => {
    const { inForce, builds, write } = over(base);
    write({ ...base, accessLog: true });
    inForce.watch();
    expect(inForce.current.settings.accessLog).toBe(true);
    expect(inForce.reload()).toEqual({ applied: ['accessLog'], needsRestart: [] });
    expect(builds).toHaveLength(2);
  });

  it('keeps the version in force when the file is invalid, and tries that edit only once', () => {
    const { inForce, builds, file } = over(base);
    fs.writeFileSync(file, '{ not json');
    expect(() => inForce.reload()).toThrow();
    inForce.watch();
    expect(builds).toHaveLength(1);
    expect(inForce.current.settings).toEqual(base);
  });
});
