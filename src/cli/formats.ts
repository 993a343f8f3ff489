// The machine formats of -o: JSON or YAML of the very data the JSON shows, alone on stdout. The
// table formats are each command's own rendering.
import { createRequire } from 'node:module';
import type { stringify as Stringify } from 'yaml';
import type { OutputFormat } from './define.js';
import { printJson } from './output.js';

/** YAML's writer, loaded when YAML is asked for: most commands print JSON or a table, and yaml is a quarter of a status --json's module load. */
const stringify: typeof Stringify = (value) => (createRequire(import.meta.url)('yaml') as { stringify: typeof Stringify }).stringify(value);

export const isMachineFormat = (format: OutputFormat): boolean => format === 'json' || format === 'yaml';

/** Prints `value` as JSON or YAML and says true; says false for the table formats (the command renders those). */
export function printData(format: OutputFormat, value: unknown): boolean {
  if (format === 'json') printJson(value);
  else if (format === 'yaml') process.stdout.write(stringify(JSON.parse(JSON.stringify(value) ?? 'null')));
  else return false;
  return true;
}

/** One record of a stream (--watch): a JSON line, or a YAML document. */
export function printRecord(format: 'json' | 'yaml', value: unknown): void {
  process.stdout.write(format === 'json' ? `${JSON.stringify(value)}\n` : `---\n${stringify(JSON.parse(JSON.stringify(value) ?? 'null'))}`);
}
