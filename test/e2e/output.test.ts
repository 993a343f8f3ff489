// The one output option through the built CLI: -o yaml is the data -o json gives, stdout holds
// nothing else, --json is -o json, and a bad format is a usage error.
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cli, cliOk, cleanup, createCells, newWorkspace } from '../helpers.js';

afterAll(cleanup);

describe('-o json|yaml|wide', () => {
  it('-o yaml parses back to the data of -o json, and --json is -o json', async () => {
    const ws = await newWorkspace();
    await createCells(ws, 'basic', ['c1', 'c2']);
    await cliOk(ws.home, ['assign', 'customer', 'acme', '--cell', 'c2']);
    for (const command of [
      ['version'],
      ['templates'],
      ['list'],
      ['customers'],
      ['customers', 'show', 'acme'],
      ['route', 'acme'],
      ['events'],
      ['migrate', 'list'],
    ]) {
      const json = JSON.parse((await cliOk(ws.home, [...command, '-o', 'json'])).stdout);
      const yaml = parse((await cliOk(ws.home, [...command, '-o', 'yaml'])).stdout);
      expect(yaml, command.join(' ')).toEqual(json);
      expect(JSON.parse((await cliOk(ws.home, [...command, '--json'])).stdout), command.join(' ')).toEqual(json);
    }
    expect(parse((await cliOk(ws.home, ['list', '-o', 'yaml'])).stdout).map((cell: { id: string }) => cell.id)).toEqual(['c1', 'c2']);
  });

  it('-o wide prints the table unshortened; a bad format or two formats is a usage error (exit 2)', async () => {
    const ws = await newWorkspace();
    await createCells(ws, 'basic', ['a-cell-with-a-long-name-and-a-longer-tail-1']);
    const [cell] = JSON.parse((await cliOk(ws.home, ['list', '--json'])).stdout);
    // Into a pipe the table fits 80 columns, wrapping what does not fit; wide keeps every cell on its line.
    const wide = (await cliOk(ws.home, ['list', '-o', 'wide'])).stdout;
    expect(wide).toMatch(new RegExp(`${cell.id} .* ${cell.createdAt.replace(/\./g, '\\.')}`));
    expect((await cli(ws.home, ['list', '-o', 'xml'])).code).toBe(2);
    const both = await cli(ws.home, ['list', '--json', '-o', 'yaml']);
    expect(both.code).toBe(2);
    expect(both.stdout).toBe('');
  });
});
