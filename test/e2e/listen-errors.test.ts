// A server that cannot take its address: router serve, serve and cell-agent on a port another program
// holds, or on an address this machine lacks, say which address and how to fix it in one line, exit 1,
// end (nothing keeps running) and leave nothing they made behind.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, cli, cliOk, freePort, newWorkspace, tempDir, type Workspace } from '../helpers.js';

/** An address no machine has (TEST-NET-3, RFC 5737). */
const ABSENT = '203.0.113.77';

let held: net.Server;
let heldPort: number;
beforeAll(async () => {
  heldPort = await freePort();
  held = net.createServer().listen(heldPort, '127.0.0.1');
  await new Promise((resolve) => held.once('listening', resolve));
});
afterAll(async () => {
  held.close();
  await cleanup();
});

const oneLine = (stderr: string): string[] => stderr.trim().split('\n');

describe('a port in use, or an address this machine lacks', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await newWorkspace();
  });

  it('router serve names the port and the address, exits 1 and keeps nothing running', async () => {
    const inUse = await cli(ws.home, ['router', 'serve', '--port', String(heldPort), '--admin-port', String(await freePort())]);
    expect(inUse.code).toBe(1);
    expect(oneLine(inUse.stderr)).toEqual([
      `error: the router's public port cannot listen on 127.0.0.1:${heldPort}: the port is already in use by another program; stop it, or choose another port`,
    ]);
    const adminInUse = await cli(ws.home, ['router', 'serve', '--port', String(await freePort()), '--admin-port', String(heldPort)]);
    expect(adminInUse.code).toBe(1);
    expect(adminInUse.stderr).toMatch(new RegExp(`the router's admin API cannot listen on 127\\.0\\.0\\.1:${heldPort}: the port is already in use`));
    const port = await freePort();
    const absent = await cli(ws.home, ['router', 'serve', '--port', String(port), '--admin-port', String(await freePort()), '--host', ABSENT]);
    expect(absent.code).toBe(1);
    expect(oneLine(absent.stderr)).toEqual([
      `error: the router's public port cannot listen on ${ABSENT}:${port}: ${ABSENT} is not an address of this machine; choose one it has (ip -brief address), or 0.0.0.0 for all`,
    ]);
    for (const result of [inUse, adminInUse, absent]) expect(result.stderr).not.toMatch(/this is a bug/);
    // None of them registered itself.
    const status = JSON.parse((await cliOk(ws.home, ['status', '--json'])).stdout);
    expect(status.routers).toEqual([]);
  });

  it('serve says so and leaves no database it made; cell-agent says so', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'new.db');
    const env = { CELL_ID: 's1', PORT: String(heldPort), CELL_DB: db, CELL_HOME: dir };
    const served = await cli(null, ['serve', '--template', 'basic'], env);
    expect(served.code).toBe(1);
    expect(oneLine(served.stderr)).toEqual([
      `error: cell s1 cannot listen on 127.0.0.1:${heldPort}: the port is already in use by another program; stop it, or choose another port`,
    ]);
    expect(fs.readdirSync(dir)).toEqual([]);

    const token = path.join(dir, 'token');
    fs.writeFileSync(token, 'a-data-token-of-32-characters-ok\n');
    const dataPort = String(await freePort());
    const withData = await cli(null, ['serve', '--template', 'basic', '--data-port', String(heldPort), '--token-file', token], { ...env, PORT: dataPort });
    expect(withData.code).toBe(1);
    expect(withData.stderr).toMatch(new RegExp(`cell s1's data API cannot listen on 127\\.0\\.0\\.1:${heldPort}: the port is already in use`));
    expect(fs.readdirSync(dir)).toEqual(['token']);

    await cliOk(ws.home, ['create', 'b1', '--template', 'basic', '--port', String(await freePort(2))]);
    const agent = await cli(null, [
      'cell-agent',
      '--db',
      path.join(ws.home, 'b1', 'data.db'),
      '--template',
      'basic',
      '--cell-id',
      'b1',
      '--port',
      String(heldPort),
      '--token-file',
      token,
    ]);
    expect(agent.code).toBe(1);
    expect(oneLine(agent.stderr)).toEqual([
      `error: cell b1's data API cannot listen on 127.0.0.1:${heldPort}: the port is already in use by another program; stop it, or choose another port`,
    ]);
  });
});
