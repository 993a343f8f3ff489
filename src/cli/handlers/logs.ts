// cellctl logs: the last lines of a process's log, or of every process interleaved by time, for
// people (time, level, message) or raw (--json); -f follows (through rotations), --since filters.
import fs from 'node:fs';
import { parseDuration } from '../../shared/names.js';
import { tailLines } from '../../supervisor/logfile.js';
import { ROUTER } from '../../supervisor/protocol.js';
import { processPaths } from '../../workspace/paths.js';
import { type EngineRuntime, engineRuntime } from '../../workspace/engines.js';
import { withWorkspace } from '../context.js';
import { checkProcessName } from '../lifecycle.js';
import { say, sayWarning } from '../output.js';
import { formatLogLine, interleave, parseLogLine } from '../views/logline.js';
import { ExitCode, failure, usageError } from '../../shared/errors.js';
import type { InputOf } from '../define.js';
import type { logs } from '../commands/logs.js';

const SUPERVISOR = 'supervisor';

export async function run(input: InputOf<typeof logs>): Promise<void> {
  const { lines: count, all, json, since: sinceFlag } = input.opts;
  const since = sinceFlag === undefined ? null : parseSince(sinceFlag);
  const name = input.args.name;
  if (!all && name === undefined) throw usageError('name a process (a cell, router or supervisor), or pass --all');
  if (all && name !== undefined) throw usageError(`--all shows every process: leave out "${name}", or leave out --all`);
  // Ctrl-C ends a follow as an interrupted command, exit 130 as a shell reports one, also while the
  // lines before the follow are still being read.
  const interrupt = new AbortController();
  if (input.opts.follow)
    process.once('SIGINT', () => {
      process.exitCode = ExitCode.interrupted;
      interrupt.abort();
    });
  const files = await withWorkspace(input, async (ws) => {
    const registered = all ? undefined : await ws.plane.getCell(name!);
    if (registered && !registered.managed) {
      throw failure(`cell ${registered.id} is registered and runs elsewhere (${registered.url}): its log is on the host that runs it, not in this workspace`);
    }
    const engine = engineRuntime(ws);
    if (engine) {
      const names = all ? [ROUTER, ...(await ws.plane.listCells()).filter((cell) => cell.managed).map((cell) => cell.id)] : [await checkProcessName(ws, name!)];
      await containerLogs(engine, names, { count, since, json, all, follow: input.opts.follow, interrupt: interrupt.signal });
      return null;
    }
    const names = all
      ? [SUPERVISOR, ROUTER, ...(await ws.plane.listCells()).filter((cell) => cell.managed).map((cell) => cell.id)]
      : [name === SUPERVISOR ? name : await checkProcessName(ws, name!)];
    return names.map((process) => ({ process, file: processPaths(ws.home, process).logFile }));
  });
  if (files === null) return;
  if (!all && !fs.existsSync(files[0]!.file)) say(`no log yet at ${files[0]!.file} (has ${name} been started?)`);
  const lines = interleave(files.map(({ process, file }) => ({ process, lines: tailLines(file, count) })))
    .filter((entry) => since === null || entry.at >= since)
    .slice(all ? -count : 0);
  for (const entry of lines) process.stdout.write(`${json ? entry.line.raw : formatLogLine(entry.line, all ? entry.process : undefined)}\n`);
  if (input.opts.follow) await follow(files, json, all, interrupt.signal);
}

interface LogChoice {
  count: number;
  since: number | null;
  json: boolean;
  all: boolean;
  follow: boolean;
  /** Aborted by Ctrl-C: the follow stops (or never starts). */
  interrupt: AbortSignal;
}

/**
 * An engine runtime: the same lines (each process logs JSON lines to its output), read from the
 * engine, which also keeps --since by its own clock of each line (a process's plain lines, such as a
 * cell's start line, carry no time of their own).
 */
async function containerLogs(runtime: EngineRuntime, names: string[], choice: LogChoice): Promise<void> {
  const reads = await Promise.all(names.map(async (name) => ({ process: name, ...(await runtime.logLines(name, choice.count, choice.since)) })));
  const print = (name: string, raw: string) => printLogLine(raw, choice.json, choice.all ? name : undefined);
  const entries = interleave(reads).slice(choice.all ? -choice.count : 0);
  for (const entry of entries) print(entry.process, entry.line.raw);
  // What the engine could read is shown; the answer is incomplete, and the exit code says so.
  for (const read of reads.filter((one) => one.missing !== null)) {
    sayWarning(`${read.process}'s log is incomplete: the engine could not read all of it (${read.missing}); run it again once its node is back`);
    process.exitCode = ExitCode.failure;
  }
  if (!choice.follow || choice.interrupt.aborted) return;
  const followers = names.map((name) => runtime.followLogs(name, (line) => print(name, line)));
  choice.interrupt.addEventListener('abort', () => followers.forEach((follower) => follower.stop()), { once: true });
  await Promise.all(followers.map((follower) => follower.done));
}

/** "--since 10m" (a duration back from now) or an ISO time. */
function parseSince(raw: string): number {
  if (/^\d+[smhd]$/.test(raw.trim())) return Date.now() - parseDuration(raw, '--since');
  const at = Date.parse(raw);
  if (Number.isNaN(at)) throw usageError(`--since takes a duration like 10m or 2h, or a time like 2026-01-31T12:00:00Z, got "${raw}"`);
  return at;
}

async function follow(files: { process: string; file: string }[], json: boolean, prefixed: boolean, interrupt: AbortSignal): Promise<void> {
  const positions = new Map(files.map(({ file }) => [file, fs.existsSync(file) ? fs.statSync(file).size : 0]));
  const partial = new Map<string, string>();
  while (!interrupt.aborted) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    for (const { process: name, file } of files) {
      const chunk = readNew(file, positions);
      if (chunk === null) continue;
      const text = (partial.get(file) ?? '') + chunk;
      const lines = text.split('\n');
      partial.set(file, lines.pop()!);
      for (const raw of lines) printLogLine(raw, json, prefixed ? name : undefined);
    }
  }
}

function readNew(file: string, positions: Map<string, number>): string | null {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return null;
  }
  let position = positions.get(file) ?? 0;
  if (size < position) position = 0; // rotated (truncated): read the new file from the start
  if (size === position) return null;
  const fd = fs.openSync(file, 'r');
  const buffer = Buffer.alloc(size - position);
  fs.readSync(fd, buffer, 0, buffer.length, position);
  fs.closeSync(fd);
  positions.set(file, size);
  return buffer.toString('utf8');
}

/** One line as it arrives (following a log): raw with --json, else for people, named when logs are mixed. */
function printLogLine(raw: string, json: boolean, name: string | undefined): void {
  process.stdout.write(`${json ? raw : formatLogLine(parseLogLine(raw), name)}\n`);
}
