// Completion of names, for real: the bash script `cellctl completion bash` prints, sourced in bash,
// asked what follows a partly typed command line. Subcommands and flags come from the definitions;
// the names a value takes (cells, processes, customers, templates, settings) from the workspace the
// line names with --home, read by `cellctl __complete` when Tab is pressed.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cli, cliOk, cleanup, createCells, newWorkspace, type Workspace } from '../helpers.js';

afterAll(cleanup);

let ws: Workspace;
let script: string;

beforeAll(async () => {
  ws = await newWorkspace();
  await createCells(ws, 'basic', ['c1', 'c2']);
  for (const [customer, cell] of [
    ['acme', 'c1'],
    ['acorn', 'c2'],
    ['zeta', 'c1'],
  ])
    await cliOk(ws.home, ['assign', 'customer', customer!, '--cell', cell!]);
  script = path.join(path.dirname(ws.home), 'completion.bash');
  fs.writeFileSync(script, (await cliOk(null, ['completion', 'bash'])).stdout);
});

/** What bash offers for `line` (the cursor at its end; a trailing space starts a new word), sorted. */
function offered(line: string): Promise<string[]> {
  const words = line.split(' ');
  const quoted = words.map((word) => `'${word}'`).join(' ');
  const program = [
    `cellctl() { '${process.execPath}' '${CLI}' "$@"; }`,
    `source '${script}'`,
    `COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _cellctl`,
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  return new Promise((resolve, reject) =>
    execFile('bash', ['-c', program], { env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout.split('\n').filter(Boolean).sort()),
    ),
  );
}

describe('completion of names from the workspace', () => {
  it('offers cells, processes and customers where a command takes them', async () => {
    const at = `cellctl --home ${ws.home}`;
    expect(await offered(`${at} delete `)).toEqual(['c1', 'c2']);
    expect(await offered(`${at} stop `)).toEqual(['c1', 'c2', 'router']);
    expect(await offered(`${at} stop c1 `)).toEqual(['c1', 'c2', 'router']);
    expect(await offered(`${at} drill kill `)).toEqual(['c1', 'c2']);
    expect(await offered(`${at} migrate customer a`)).toEqual(['acme', 'acorn']);
    expect(await offered(`${at} migrate customer acme --to `)).toEqual(['c1', 'c2']);
    expect(await offered(`${at} customers --cell c`)).toEqual(['c1', 'c2']);
    expect(await offered(`${at} route z`)).toEqual(['zeta']);
  });

  it('offers templates and settings, and still subcommands and flags', async () => {
    const at = `cellctl --home ${ws.home}`;
    expect(await offered(`${at} create c3 --template `)).toEqual(expect.arrayContaining(['basic', 'ecommerce']));
    expect(await offered(`${at} create c3 -t e`)).toEqual(['ecommerce']);
    expect(await offered(`${at} config get limits.maxBo`)).toEqual(['limits.maxBodyBytes']);
    expect(await offered(`${at} migrate re`)).toEqual(['resume']);
    expect(await offered(`${at} drain c1 --d`)).toEqual(['--dry-run']);
    // A value that names nothing offers no names: the flag's own value is the user's.
    expect(await offered(`${at} drain c1 --batch-size `)).toEqual([]);
  });

  it('a folder that is no workspace offers no names, and __complete stays quiet', async () => {
    const nowhere = path.join(path.dirname(ws.home), 'nowhere');
    expect(await offered(`cellctl --home ${nowhere} delete `)).toEqual([]);
    const quiet = await cli(nowhere, ['__complete', 'cell']);
    expect(quiet).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect((await cli(null, ['--help'])).stdout).not.toContain('__complete');
  });
});
