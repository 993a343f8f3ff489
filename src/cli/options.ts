// Each command's options as one typed object: the command table (main.ts) declares the flags and
// their defaults, a command module declares here how its values parse, and they are checked before
// the command does anything.
import { z } from 'zod';
import { usageError } from '../shared/errors.js';
import { parseDuration, parsePort, parsePositiveInt, parseSeconds } from '../shared/names.js';
import { formatIssues } from '../shared/validation.js';

/** The options every command accepts (declared on the program). */
const globalOptions = { home: z.string().optional(), debug: z.boolean().default(false) };

/** A command's options: its own and the global ones; commander's other keys are dropped. */
export function commandOptions<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.object({ ...globalOptions, ...shape });
}

export type OptionsOf<Schema extends z.ZodType> = z.output<Schema>;

/** A switch (--json): commander gives true, or nothing. */
export const on = z.boolean().default(false);
/** A value given as is (--template basic), or nothing. */
export const text = z.string().optional();
/** A whole number from 1 to `max`; a default, if any, is the command table's. */
export const count = (flag: string, max?: number) => z.string().transform((raw) => parsePositiveInt(raw, flag, max));
/** A number of seconds, as milliseconds. */
export const secondsAsMs = (flag: string) => z.string().transform((raw) => parseSeconds(raw, flag) * 1000);
export const tcpPort = (flag: string) => z.string().transform((raw) => parsePort(raw, flag));
/** A duration such as 30m or 24h, as milliseconds. */
export const duration = (flag: string) => z.string().transform((raw) => parseDuration(raw, flag));
/** The typed options, or a usage error (exit 2) that names the flag. The value parsers throw theirs. */
export function parseOptions<Schema extends z.ZodType>(schema: Schema, raw: Record<string, unknown>): z.output<Schema> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw usageError(`bad options: ${formatIssues(parsed.error)}`);
  return parsed.data;
}
