// cellctl version: the cellctl and Node.js versions.
import { readFileSync } from 'node:fs';
import type { version } from '../commands/version.js';
import type { InputOf } from '../define.js';
import { printData } from '../formats.js';
import { printLine } from '../output.js';

export function run(input: InputOf<typeof version>): void {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  const info = { cellctl: pkg.version, node: process.versions.node };
  if (!printData(input.opts.output, info)) printLine(`cellctl ${info.cellctl} (node ${info.node})`);
}
