// Rendering and terminal conventions for every command: data to stdout (a table for people, JSON for
// scripts), messages to stderr; colour and spinners only on a terminal and never with NO_COLOR.
import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import fs from 'node:fs';
import path from 'node:path';

const noColorRequested = (): boolean => process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '';

export function colorEnabled(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY) && !noColorRequested() && process.env.TERM !== 'dumb';
}

/** Colours for stdout; a no-op painter when colour is off. */
export const paint: ChalkInstance = new Chalk({ level: colorEnabled() ? 1 : 0 });
/** Colours for stderr messages. */
const paintErr: ChalkInstance = new Chalk({ level: colorEnabled(process.stderr) ? 1 : 0 });

/** How the person runs cellctl, for hints: "cellctl" when it is on PATH, else "npx cellctl". */
export function cellctlCommand(): string {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  return dirs.some((dir) => fs.existsSync(path.join(dir, 'cellctl'))) ? 'cellctl' : 'npx cellctl';
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function printLine(text = ''): void {
  process.stdout.write(text + '\n');
}

/** A message for the person at the terminal: stderr, so stdout stays data. */
export function say(text: string): void {
  process.stderr.write(text + '\n');
}

export function sayWarning(text: string): void {
  process.stderr.write(paintErr.yellow('warning: ') + text + '\n');
}

export function sayError(text: string): void {
  process.stderr.write(paintErr.red('error: ') + text + '\n');
}

export function sayDone(text: string): void {
  process.stderr.write(paintErr.green('✔ ') + text + '\n');
}

/** How wide a table may be: the terminal's width, or 80 columns into a pipe or file. */
const tableWidth = (): number => Math.max(40, process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : 80);

const ANSI = /\u001b\[[0-9;]*m/g;
const visibleLength = (text: string): number =>
  Math.max(
    0,
    ...text
      .replace(ANSI, '')
      .split('\n')
      .map((line) => line.length),
  );

/**
 * Column widths (padding included) that fit `limit` with the table's borders: the widest columns
 * give way first, none below `floor`; null when the table fits as it is.
 */
export function fitColumns(natural: readonly number[], limit: number, floor = 6): number[] | null {
  const total = (widths: readonly number[]) => widths.reduce((sum, width) => sum + width, 0) + widths.length + 1;
  if (total(natural) <= limit) return null;
  const widths = [...natural];
  while (total(widths) > limit) {
    const widest = widths.indexOf(Math.max(...widths));
    if (widths[widest]! <= floor) break;
    widths[widest]! -= 1;
  }
  return widths;
}

/** A table for people: it wraps long cells to fit the terminal (80 columns off one) unless `wide`. */
export function renderTable(head: string[], rows: (string | number)[][], options: { wide?: boolean } = {}): string {
  const cells = rows.map((row) => row.map((cell) => String(cell)));
  const natural = head.map((title, index) => Math.max(visibleLength(title), ...cells.map((row) => visibleLength(row[index] ?? ''))) + 2);
  const colWidths = options.wide ? null : fitColumns(natural, tableWidth());
  const table = new Table({
    head: head.map((title) => paint.bold(title)),
    style: { head: [], border: [] },
    chars: colorEnabled() ? {} : { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    ...(colWidths ? { colWidths, wordWrap: true, wrapOnWordBoundary: false } : {}),
  });
  table.push(...cells);
  return table.toString();
}

/** A spinner on a terminal; plain lines on stderr elsewhere (CI logs stay readable). */
export interface Progress {
  update(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
}

export async function startProgress(text: string, quiet = false): Promise<Progress> {
  if (quiet) return { update() {}, succeed() {}, fail() {} };
  if (process.stderr.isTTY && !noColorRequested()) {
    // Loaded only on a terminal: scripts and CI never pay for the spinner.
    const { default: ora } = await import('ora');
    const spinner = ora({ text, stream: process.stderr }).start();
    return {
      update: (next) => (spinner.text = next),
      succeed: (done) => spinner.succeed(done),
      fail: (done) => spinner.fail(done),
    };
  }
  say(text);
  return { update() {}, succeed: (done) => sayDone(done), fail: (done) => sayError(done) };
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** A progress bar with rate and ETA on a terminal; a line per tenth elsewhere. */
export function startBar(label: string, total: number, quiet = false): { tick(done: number): void; finish(): void } {
  const started = Date.now();
  let lastDecile = -1;
  const tty = process.stderr.isTTY && !quiet;
  const line = (done: number) => {
    const elapsed = (Date.now() - started) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const eta = rate > 0 ? formatDuration(((total - done) / rate) * 1000) : '?';
    return `${label} ${done}/${total} (${rate.toFixed(0)}/s, ETA ${eta})`;
  };
  return {
    tick(done) {
      if (quiet) return;
      if (tty) {
        const width = 30;
        const filled = total === 0 ? width : Math.round((done / total) * width);
        process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${line(done)}   `);
        return;
      }
      const decile = total === 0 ? 10 : Math.floor((done / total) * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        say(line(done));
      }
    },
    finish() {
      if (tty) process.stderr.write('\n');
    },
  };
}
