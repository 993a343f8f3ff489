// Flags whose values were taken wrongly or silently ignored: each now gets one line that says what
// happened and how to do what was meant, the right exit code, and nothing stored changes.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, cli, cliOk, FIXTURES, freePort, newWorkspace, tempDir } from '../helpers.js';

afterAll(cleanup);

const lines = (text: string): string[] => text.trim().split('\n');

describe('flags', () => {
  it('init --control with a URL that is not PostgreSQL is a usage error that never prints its password', async () => {
    const home = path.join(tempDir(), 'ws');
    const result = await cli(home, ['init', '--control', 'mysql://user:secretpw@db.example:3306/cells']);
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual([
      'error: the control plane mysql://user:***@db.example:3306/cells is not a PostgreSQL URL: give --control postgres://user:password@host:5432/database (or leave it out for a control.db)',
    ]);
    expect(result.stdout + result.stderr).not.toContain('secretpw');
    expect(fs.existsSync(home)).toBe(false);
  });

  it('init refuses a --home that cannot hold a workspace (a kernel folder, a path under a file) at once', async () => {
    const proc = await cli(null, ['--home', '/proc/cellctl-test/ws', 'init']);
    expect([proc.code, proc.stderr]).toEqual([
      2,
      "error: /proc/cellctl-test/ws is under /proc, the kernel's own file system, which cannot hold a workspace: choose another --home\n",
    ]);
    const file = path.join(tempDir(), 'a-file');
    fs.writeFileSync(file, '');
    const under = await cli(null, ['--home', path.join(file, 'ws'), 'init']);
    expect([under.code, under.stderr]).toEqual([2, `error: ${path.join(file, 'ws')} is under ${file}, which is a file: choose another --home\n`]);
  });

  it('router serve outside a workspace says so as every command does; events about an unknown subject say which', async () => {
    const nowhere = path.join(tempDir(), 'none');
    const served = await cli(nowhere, ['router', 'serve', '--port', String(await freePort()), '--admin-port', String(await freePort())]);
    expect([served.code, served.stderr]).toEqual([2, `error: no workspace at ${nowhere}: run "cellctl init --home ${nowhere}" first (or "cellctl up")\n`]);
    const ws = await newWorkspace();
    expect((await cliOk(ws.home, ['events', '--subject', 'nosuch'])).stderr).toMatch(/^no events about "nosuch" \(events name a cell/);
  });

  it("init --template-path names a folder of the user's templates, so --template can name one of them at init", async () => {
    const home = path.join(tempDir(), 'own');
    const folder = path.join(FIXTURES, 'templates');
    await cliOk(home, ['init', '--router-port', String(await freePort(2)), '--template-path', folder, '--template', 'notes']);
    expect(JSON.parse(fs.readFileSync(path.join(home, 'cellctl.json'), 'utf8'))).toMatchObject({ templatePaths: [folder], placementTemplate: 'notes' });
    const none = path.join(tempDir(), 'none');
    const missing = await cli(none, ['init', '--template-path', path.join(tempDir(), 'no-such-folder'), '--template', 'notes']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--template-path .*no-such-folder is not a folder: give the folder that holds your templates/);
    expect(fs.existsSync(none)).toBe(false);
  });

  it('init --router-port on an existing workspace says the workspace keeps its port and how to change it', async () => {
    const ws = await newWorkspace();
    const other = ws.routerPort + 7;
    const again = await cliOk(ws.home, ['init', '--router-port', String(other)]);
    expect(again.stderr).toMatch(/workspace already exists/);
    expect(again.stderr).toContain(
      `note: the workspace keeps router port ${ws.routerPort} (--router-port ${other} is for a new workspace); to change it: cellctl config set routerPort ${other}`,
    );
    expect(JSON.parse(fs.readFileSync(path.join(ws.home, 'cellctl.json'), 'utf8')).routerPort).toBe(ws.routerPort);
    // The same port, or none: nothing to say.
    expect((await cliOk(ws.home, ['init', '--router-port', String(ws.routerPort)])).stderr).not.toMatch(/keeps router port/);
    expect((await cliOk(ws.home, ['init'])).stderr).not.toMatch(/keeps router port/);
  });

  it('a number of seconds past the limit names the limit', async () => {
    const ws = await newWorkspace();
    const result = await cli(ws.home, ['start', '--timeout', '100000']);
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual(['error: --timeout must be a number of seconds above 0 and at most 86400 (a day), e.g. 30; got "100000"']);
  });

  it('logs NAME --all is refused instead of ignoring the name', async () => {
    const ws = await newWorkspace();
    const result = await cli(ws.home, ['logs', 'router', '--all']);
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual(['error: --all shows every process: leave out "router", or leave out --all']);
  });

  it("config set routerPort or routerAdminPort refuses a cell's port (or its data API's) before writing", async () => {
    const ws = await newWorkspace();
    const port = await freePort(2);
    await cliOk(ws.home, ['create', 'c1', '--template', 'basic', '--port', String(port)]);
    const file = path.join(ws.home, 'cellctl.json');
    const before = fs.readFileSync(file, 'utf8');
    const cellPort = await cli(ws.home, ['config', 'set', 'routerPort', String(port)]);
    expect(cellPort.code).toBe(2);
    expect(lines(cellPort.stderr)).toEqual([`error: routerPort ${port} is cell c1's port: choose a port no cell uses ("cellctl list" shows theirs)`]);
    const dataPort = await cli(ws.home, ['config', 'set', 'routerAdminPort', String(port + 1)]);
    expect(dataPort.code).toBe(2);
    expect(dataPort.stderr).toContain(`routerAdminPort ${port + 1} is cell c1's data API's port`);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });
});
