// Cells by URL: what a cell URL may be, what a data API must answer to be registered, and how status
// and health show a registered cell (run elsewhere, no pid here).
import { describe, expect, it } from 'vitest';
import { renderStatus } from '../../src/cli/views/status.js';
import { cellAddress, hostNamesThisMachine, parseCellUrl } from '../../src/shared/urls.js';
import { dataTokenProblem } from '../../src/data/protocol.js';
import { buildStatus, judgeHealth, type StatusInputs } from '../../src/status/model.js';
import { infoMismatch } from '../../src/workspace/registered.js';
import { cellRecord } from '../helpers.js';

describe('cell URLs', () => {
  it('read an IPv4 address or a name with a port', () => {
    expect(parseCellUrl('http://10.1.2.3:8100')).toEqual({ host: '10.1.2.3', port: 8100, base: 'http://10.1.2.3:8100' });
    expect(parseCellUrl('http://cell-b.internal:9000/')).toEqual({ host: 'cell-b.internal', port: 9000, base: 'http://cell-b.internal:9000' });
    expect(parseCellUrl('http://[::1]:9000')).toMatchObject({ host: '::1', port: 9000 });
    // http's default port, written out, is a port (URL itself drops it).
    expect(parseCellUrl('http://cell-b.internal:80')).toEqual({ host: 'cell-b.internal', port: 80, base: 'http://cell-b.internal:80' });
    expect(parseCellUrl('http://[::1]:80/')).toEqual({ host: '::1', port: 80, base: 'http://[::1]:80' });
  });

  it('one rule for a data API token, with how to make one', () => {
    expect(dataTokenProblem('a-data-token-of-32-characters-ok')).toBeNull();
    expect(dataTokenProblem('abc')).toBe('has 3 characters; a data API token has at least 16 (make one with: head -c 24 /dev/urandom | base64 > FILE)');
    expect(dataTokenProblem('sixteen chars ok')).toMatch(/^contains white space/);
  });

  it.each([
    ['https://10.1.2.3:8100', /https/],
    ['http://10.1.2.3', /no port/],
    ['ftp://10.1.2.3:21', /http:\/\//],
    ['10.1.2.3:8100', /http/],
    ['not a url', /not a URL/],
    ['http://10.1.2.3:8100/api', /no path/],
    ['http://u:p@10.1.2.3:8100', /user/],
  ])('refuse %s, saying how to write it', (text, why) => {
    expect(() => parseCellUrl(text)).toThrow(why);
  });

  it('fall back to the local port for an unreadable row', () => {
    expect(cellAddress({ url: 'garbage', port: 8123 })).toEqual({ host: '127.0.0.1', port: 8123, base: 'http://127.0.0.1:8123' });
  });
});

describe('a data API fits a registered cell', () => {
  const info = { api: 4 as const, cell_id: 'b', schema_version: 2 };
  it('only when it names the cell and the template schema version', () => {
    const basic = (version: number) => ({ name: 'basic', schema: { file: 'schema.sql', version }, customerTables: [{ table: 'customers' }] as never });
    expect(infoMismatch(info, 'b', basic(2))).toBeNull();
    expect(infoMismatch(info, 'c', basic(2))).toMatch(/serves cell "b"/);
    expect(infoMismatch(info, 'b', basic(3))).toMatch(/schema version 2/);
    expect(infoMismatch({}, 'b', basic(2))).toMatch(/data API version 4/);
    expect(infoMismatch({ ...info, api: 1 as never }, 'b', basic(2))).toMatch(/data API version 4/);
    // Another template's tables at the same schema version.
    const tables = (...names: string[]) => names.map((table) => ({ table, customer_column: 'customer_id', parent: null, cell_column: null }));
    expect(infoMismatch({ ...info, tables: tables('customers') }, 'b', basic(2))).toBeNull();
    expect(infoMismatch({ ...info, tables: tables('cart_items', 'customers', 'orders') }, 'b', basic(2))).toBe(
      'it serves the customer tables cart_items, customers, orders, template basic declares customers: register it with the template it was made from',
    );
  });
});

describe('a registered cell in status and health', () => {
  const registered = cellRecord('far', { managed: false, dataPort: null, url: 'http://10.9.9.9:8100', dataUrl: 'http://10.9.9.9:8101' });
  const inputs = (healthy: boolean, customers: number): StatusInputs => ({
    home: '/w',
    now: 1_000,
    cells: [registered as never],
    customerCounts: new Map([['far', customers]]),
    supervisor: {
      pid: 1,
      startedAt: new Date(0).toISOString(),
      processes: [
        {
          name: 'router',
          kind: 'router',
          state: 'running',
          pid: 5,
          port: 8000,
          startedAt: null,
          restarts: 0,
          healthy: true,
          lastExit: null,
          lastError: null,
          nextRestartAt: null,
        } as never,
      ],
    },
    orphanPids: new Map(),
    health: new Map([
      ['router', true],
      ['far', healthy],
    ]),
    routerStats: null,
    routerPort: 8000,
    routerAdminPort: 8001,
    auth: 'none',
    runningMigrations: [],
  });

  it('shows as registered, with no pid, its health from its URL', () => {
    const report = buildStatus(inputs(true, 2));
    expect(report.cells[0]).toMatchObject({ state: 'registered', pid: null, healthy: true, url: 'http://10.9.9.9:8100', managed: false });
    expect(judgeHealth(report).healthy).toBe(true);
    const table = renderStatus(report);
    expect(table).toContain('registered');
    expect(table).toContain('http://10.9.9.9:8100');
    for (const line of table.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('counts its customers as affected when it does not answer', () => {
    const verdict = judgeHealth(buildStatus(inputs(false, 4)));
    expect(verdict.healthy).toBe(false);
    expect(verdict.customersAffected).toBe(4);
    expect(verdict.details[0]!.fix).toContain('http://10.9.9.9:8100');
  });
});

describe('a Host that names this machine (the token-free scrape)', () => {
  it.each([
    ['127.0.0.1:8001', true],
    ['10.0.0.7', true],
    ['[::1]:8001', true],
    ['LOCALHOST:8001', true],
    ['router-a:8001', true],
    ['router-a.example', false],
    ['attacker.example:80', false],
    ['127.0.0.1.attacker.example', false],
    ['', true],
  ])('%s → %s', (host, allowed) => {
    expect(hostNamesThisMachine(host, ['router-a'])).toBe(allowed);
  });
  it('passes a request with no Host at all (HTTP/1.0: no browser sends one)', () => {
    expect(hostNamesThisMachine(undefined, [])).toBe(true);
  });
});
