import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { commandOptions, count, on, parseOptions, secondsAsMs, tcpPort, text } from '../../src/cli/options.js';
import { CellctlError } from '../../src/shared/errors.js';

/** The command modules that declare typed options, by command path. */
const TYPED: Record<string, () => Promise<unknown>> = {
  init: () => import('../../src/cli/commands/init.js').then((m) => m.options),
  templates: () => import('../../src/cli/commands/templates.js').then((m) => m.options),
  create: () => import('../../src/cli/commands/create.js').then((m) => m.options),
  list: () => import('../../src/cli/commands/list.js').then((m) => m.options),
  delete: () => import('../../src/cli/commands/delete.js').then((m) => m.options),
  up: () => import('../../src/cli/commands/up.js').then((m) => m.options),
  start: () => import('../../src/cli/commands/start.js').then((m) => m.options),
  stop: () => import('../../src/cli/commands/stop.js').then((m) => m.options),
  restart: () => import('../../src/cli/commands/restart.js').then((m) => m.options),
  status: () => import('../../src/cli/commands/status.js').then((m) => m.options),
  health: () => import('../../src/cli/commands/health.js').then((m) => m.options),
  metrics: () => import('../../src/cli/commands/metrics.js').then((m) => m.options),
  logs: () => import('../../src/cli/commands/logs.js').then((m) => m.options),
  events: () => import('../../src/cli/commands/events.js').then((m) => m.options),
  token: () => import('../../src/cli/commands/token.js').then((m) => m.options),
  config: () => import('../../src/cli/commands/config.js').then((m) => m.options),
  assign: () => import('../../src/cli/commands/assign.js').then((m) => m.options),
  route: () => import('../../src/cli/commands/route.js').then((m) => m.options),
  'migrate list': () => import('../../src/cli/commands/migrate-admin.js').then((m) => m.listOptions),
  'migrate show': () => import('../../src/cli/commands/migrate-admin.js').then((m) => m.oneOptions),
  'migrate resume': () => import('../../src/cli/commands/migrate-admin.js').then((m) => m.oneOptions),
  'migrate abort': () => import('../../src/cli/commands/migrate-admin.js').then((m) => m.oneOptions),
  'migrate purge': () => import('../../src/cli/commands/migrate-admin.js').then((m) => m.purgeOptions),
  drain: () => import('../../src/cli/commands/drain.js').then((m) => m.options),
  rebalance: () => import('../../src/cli/commands/rebalance.js').then((m) => m.options),
  drill: () => import('../../src/cli/commands/drill.js').then((m) => m.options),
  audit: () => import('../../src/cli/commands/audit.js').then((m) => m.options),
  customers: () => import('../../src/cli/commands/customers.js').then((m) => m.options),
  'migrate customer': () => import('../../src/cli/commands/migrate-customer.js').then((m) => m.options),
  unassign: () => import('../../src/cli/commands/customers.js').then((m) => m.unassignOptions),
  'cells register': () => import('../../src/cli/commands/cells.js').then((m) => m.registerOptions),
  'cells unregister': () => import('../../src/cli/commands/cells.js').then((m) => m.unregisterOptions),
  serve: () => import('../../src/cli/commands/serve.js').then((m) => m.options),
  'router serve': () => import('../../src/cli/commands/router.js').then((m) => m.serveOptions),
  'cell-agent': () => import('../../src/cli/commands/cell-agent.js').then((m) => m.options),
  dashboard: () => import('../../src/cli/commands/dashboard.js').then((m) => m.options),
};

function leaves(command: Command, prefix: string[] = []): [string, Command][] {
  return command.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    return sub.commands.length > 0 ? leaves(sub, path) : [[path.join(' '), sub] as [string, Command]];
  });
}

describe('typed command options', () => {
  const schema = commandOptions({ json: on, lines: count('--lines', 100), timeout: secondsAsMs('--timeout'), port: tcpPort('--port').optional(), cell: text });

  it('parses commander’s raw values into typed ones, with the globals', () => {
    expect(parseOptions(schema, { lines: '50', timeout: '2', home: '/w', other: 1 })).toEqual({
      json: false,
      debug: false,
      lines: 50,
      timeout: 2000,
      home: '/w',
    });
    expect(parseOptions(schema, { json: true, lines: '1', timeout: '0.5', port: '9000', cell: 'c1' })).toMatchObject({ json: true, port: 9000, cell: 'c1' });
  });

  it('refuses a bad value with a usage error (exit 2) that names the flag', () => {
    for (const raw of [{ lines: '0', timeout: '1' }, { lines: '5', timeout: 'soon' }, { lines: '5', timeout: '1', port: '80' }, { timeout: '1' }]) {
      let caught: unknown;
      try {
        parseOptions(schema, raw);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CellctlError);
      expect((caught as CellctlError).exitCode).toBe(2);
    }
  });

  it('every typed command declares each of its flags, and the table’s defaults parse', async () => {
    const table = new Map(leaves(buildProgram()));
    for (const [path, load] of Object.entries(TYPED)) {
      const command = table.get(path);
      expect(command, path).toBeDefined();
      const options = (await load()) as ReturnType<typeof commandOptions>;
      const flags = command!.options.map((option) => option.attributeName());
      expect(Object.keys(options.shape).sort(), path).toEqual([...flags, 'home', 'debug'].sort());
      const defaults = Object.fromEntries(
        command!.options.filter((option) => option.defaultValue !== undefined).map((o) => [o.attributeName(), o.defaultValue]),
      );
      expect(() => parseOptions(options, defaults), path).not.toThrow();
    }
  });
});
