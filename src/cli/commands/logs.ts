// cellctl logs: the last lines of a process's log, and -f to follow it (through rotations).
import fs from 'node:fs';
import { parsePositiveInt } from '../../shared/names.js';
import { tailLines } from '../../supervisor/logfile.js';
import { ROUTER } from '../../supervisor/protocol.js';
import { requireCell } from '../../workspace/cells.js';
import { processPaths } from '../../workspace/paths.js';
import { type CommandInput, flag, withWorkspace } from '../context.js';
import { say } from '../output.js';

export async function run(input: CommandInput): Promise<void> {
  const count = parsePositiveInt(flag.string(input.opts, 'lines') ?? '50', '--lines', 100_000);
  const name = input.args[0]!;
  const file = await withWorkspace(input, (ws) => {
    if (name !== ROUTER && name !== 'supervisor') requireCell(ws, name);
    return processPaths(ws.home, name).logFile;
  });
  if (!fs.existsSync(file)) say(`no log yet at ${file} (has ${name} been started?)`);
  for (const line of tailLines(file, count)) process.stdout.write(line + '\n');
  if (flag.bool(input.opts, 'follow')) await follow(file);
}

async function follow(file: string): Promise<void> {
  let position = fs.existsSync(file) ? fs.statSync(file).size : 0;
  let stopped = false;
  // Ctrl-C ends the follow as an interrupted command: exit 130, as a shell reports one.
  process.once('SIGINT', () => {
    stopped = true;
    process.exitCode = 130;
  });
  while (!stopped) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch {
      continue;
    }
    if (size < position) position = 0; // rotated (truncated): read the new file from the start
    if (size === position) continue;
    const fd = fs.openSync(file, 'r');
    const buffer = Buffer.alloc(size - position);
    fs.readSync(fd, buffer, 0, buffer.length, position);
    fs.closeSync(fd);
    position = size;
    process.stdout.write(buffer);
  }
}
