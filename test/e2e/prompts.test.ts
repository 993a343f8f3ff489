// On a terminal, `create` asks for what is missing (@inquirer/prompts); `script` gives it a real pty.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, cliJson, cleanup, newWorkspace, tempDir, track, waitFor } from '../helpers.js';

afterAll(cleanup);

describe('prompts on a terminal', () => {
  it('create asks for the cell name and the template', async () => {
    const ws = await newWorkspace();
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TERM: 'xterm' };
    delete env.CI;
    const child = track(
      spawn('script', ['-qfec', `${process.execPath} ${CLI} --home ${ws.home} create`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] }),
    );
    let screen = '';
    child.stdout!.on('data', (chunk) => (screen += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitFor('the name prompt', () => screen.includes('Cell name'));
    child.stdin!.write('asked-1\r');
    await waitFor('the template prompt', () => screen.includes('Template'));
    child.stdin!.write('\r');
    expect(await exited).toBe(0);
    expect(await cliJson(ws.home, ['list'])).toEqual([expect.objectContaining({ id: 'asked-1', template: 'basic' })]);
  });

  it("create's template picker shows an invalid template greyed out with why, and starts on the placement template", async () => {
    const ws = await newWorkspace({ placementTemplate: 'ecommerce' });
    const own = path.join(tempDir(), 'templates');
    fs.mkdirSync(path.join(own, 'aaa-broken'), { recursive: true });
    fs.writeFileSync(path.join(own, 'aaa-broken', 'template.json'), '{"name": "aaa-broken"}');
    const file = path.join(ws.home, 'cellctl.json');
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), templatePaths: [own] }, null, 2));
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TERM: 'xterm' };
    delete env.CI;
    const child = track(
      spawn('script', ['-qfec', `${process.execPath} ${CLI} --home ${ws.home} create picked-1`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] }),
    );
    let screen = '';
    child.stdout!.on('data', (chunk) => (screen += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitFor('the template prompt', () => screen.includes('Template') && screen.includes('aaa-broken'));
    expect(screen).toMatch(/aaa-broken.*invalid/);
    child.stdin!.write('\r');
    expect(await exited).toBe(0);
    expect(await cliJson(ws.home, ['list'])).toEqual([expect.objectContaining({ id: 'picked-1', template: 'ecommerce' })]);
  });
});
