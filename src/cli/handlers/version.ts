// cellctl version: the cellctl and Node.js versions.
import type { version } from '../commands/version.js';
import type { InputOf } from '../define.js';
import { printData } from '../formats.js';
import { printLine } from '../output.js';
import { cellctlVersion } from '../runtime.js';

export function run(input: InputOf<typeof version>): void {
  const info = { cellctl: cellctlVersion(), node: process.versions.node };
  if (!printData(input.opts.output, info)) printLine(`cellctl ${info.cellctl} (node ${info.node})`);
}
