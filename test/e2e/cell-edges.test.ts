// The edges of a cell's health (issue 22, "Also degraded"): a corrupt cell named by audit and
// `customers show` while the others are still read; a database that refuses writes reported by
// status and health without a restart; a move whose source purge meets a held write lock; health of
// a move interrupted after its fence was lifted; `up` on a PostgreSQL control plane.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, cli, cliOk, freePort, tempDir } from '../helpers.js';
import { pgAvailable, startPg, type TestPg } from '../pg.js';

const pgCheck = pgAvailable();
let server: TestPg | undefined;

afterAll(async () => {
  await cleanup();
  await server?.stop();
});

describe.skipIf(!pgCheck.ok)(`up with CELLCTL_CONTROL_URL${pgCheck.ok ? '' : ` (skipped: ${pgCheck.reason})`}`, () => {
  it("keeps the new workspace's control plane in PostgreSQL, as init does, and makes no control.db", async () => {
    server = await startPg();
    const home = path.join(tempDir(), 'ws');
    const url = await server.newDatabase();
    const up = await cli(home, ['up', '--cells', '1', '--customers', '2', '--router-port', String(await freePort(2)), '--template', 'basic'], {
      CELLCTL_CONTROL_URL: url,
    });
    expect(up.code, up.stderr).toBe(0);
    expect(fs.readFileSync(path.join(home, 'secrets', 'control-url'), 'utf8').trim()).toBe(url);
    expect(fs.existsSync(path.join(home, 'control.db'))).toBe(false);
    expect(up.stderr).toMatch(/control plane: postgres/);
    expect(up.stdout + up.stderr).not.toContain(server.password);
    const status = JSON.parse((await cliOk(home, ['status', '--json'])).stdout);
    expect(status.controlPlane.kind).toBe('postgres');
    expect(status.cells.map((cell: { id: string }) => cell.id)).toEqual(['cell-1']);
  }, 120_000);
});
