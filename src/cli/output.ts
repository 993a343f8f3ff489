// Rendering and terminal conventions for every command: data to stdout (a table for people, JSON for
// scripts), messages to stderr; colour and spinners only on a terminal and never with NO_COLOR.
import { Chalk, type ChalkInstance } from 'chalk';
import type Table from 'cli-table3';
import fs from 'node:fs';
import { createRequire } from 'node:module';
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

/** How wide a table may be: the terminal's width; into a pipe or a file, no limit (nothing is wrapped). */
const tableWidth = (): number | null => (process.stdout.isTTY ? Math.max(40, process.stdout.columns || 80) : null);

const ANSI = /\u001b\[[0-9;]*m/g;
const visible = (text: string): number => text.replace(ANSI, '').length;
const visibleLength = (text: string): number => Math.max(0, ...text.split('\n').map(visible));

/**
 * The pieces a cell may be wrapped between: words, but a quoted or back-quoted phrase (a command to
 * copy) is one piece, and a cell that is itself a command (starting "cellctl ") is one piece.
 * Escape codes stay inside the piece they colour, so a wrap never cuts one.
 */
export function wrapUnits(text: string): string[] {
  if (/^(?:\u001b\[[0-9;]*m)*cellctl /.test(text)) return [text];
  return text.match(/(?:"[^"]*"|`[^`]*`|\S)+/g) ?? [];
}

/** A piece that is never cut, however narrow the column: a URL, a command, a coloured word. */
const whole = (unit: string): boolean => /:\/\/|^["`]|^cellctl |\u001b/.test(unit);

/**
 * `text` in lines of at most `width` visible characters, broken between its pieces; a longer plain
 * word (an id) is cut into lines of `width`, a longer whole piece keeps a line of its own.
 */
export function wrapCell(text: string, width: number): string {
  return text
    .split('\n')
    .map((line) => {
      const lines: string[] = [];
      let current = '';
      for (const unit of wrapUnits(line)) {
        if (current !== '' && visible(current) + 1 + visible(unit) > width) {
          lines.push(current);
          current = '';
        }
        let rest = current === '' ? unit : `${current} ${unit}`;
        while (!whole(unit) && rest.length > width) {
          lines.push(rest.slice(0, width));
          rest = rest.slice(width);
        }
        current = rest;
      }
      return [...lines, current].join('\n');
    })
    .join('\n');
}

/**
 * Column widths (padding included) that fit `limit` with the table's borders: the widest columns
 * give way first, none below its floor (`floors`, else `floor`); null when the table fits as it is.
 */
export function fitColumns(natural: readonly number[], limit: number, floor = 6, floors: readonly number[] = []): number[] | null {
  const total = (widths: readonly number[]) => widths.reduce((sum, width) => sum + width, 0) + widths.length + 1;
  if (total(natural) <= limit) return null;
  const least = natural.map((width, index) => Math.min(width, Math.max(floor, floors[index] ?? 0)));
  const widths = [...natural];
  while (total(widths) > limit) {
    const shrinkable = widths.map((width, index) => (width > least[index]! ? width : -1));
    const widest = shrinkable.indexOf(Math.max(...shrinkable));
    if (shrinkable[widest]! < 0) break;
    widths[widest]! -= 1;
  }
  return widths;
}

/**
 * A table for people. On a terminal its long cells wrap to fit the terminal's width (`width` says
 * another), between words only: a URL, a quoted command or an escape code is never broken, and a
 * column is never narrower than its longest such piece. Into a pipe or a file, or `wide`, nothing wraps.
 */
export function renderTable(head: string[], rows: (string | number)[][], options: { wide?: boolean; width?: number | null } = {}): string {
  const cells = rows.map((row) => row.map((cell) => String(cell)));
  const width = options.wide ? null : options.width === undefined ? tableWidth() : options.width;
  const natural = head.map((title, index) => Math.max(visibleLength(title), ...cells.map((row) => visibleLength(row[index] ?? ''))) + 2);
  const floors = head.map(
    (title, index) => Math.max(...[title, ...cells.map((row) => row[index] ?? '')].flatMap((text) => wrapUnits(text).filter(whole).map(visible)), 0) + 2,
  );
  const colWidths = width === null ? null : fitColumns(natural, width, 6, floors);
  // Loaded when a table is drawn (cli-table3 and its width tables are most of this module's load time).
  const TableClass = createRequire(import.meta.url)('cli-table3') as typeof Table;
  const table = new TableClass({
    // Bold line by line: an escape code never spans a line the table pads and borders.
    head: head.map((title, index) =>
      (colWidths ? wrapCell(title, colWidths[index]! - 2) : title)
        .split('\n')
        .map((line) => paint.bold(line))
        .join('\n'),
    ),
    style: { head: [], border: [] },
    chars: colorEnabled() ? {} : { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  table.push(...(colWidths ? cells.map((row) => row.map((cell, index) => wrapCell(cell, colWidths[index]! - 2))) : cells));
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
