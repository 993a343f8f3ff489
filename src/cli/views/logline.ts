// Log lines for people: pino's JSON lines as "time level [process] message key=value", and any
// other line (a child's own stderr) as it is. Pure, so it is tested directly.

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const QUIET_KEYS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'v']);

export interface LogLine {
  raw: string;
  /** Epoch ms from pino's `time`, or null for a line that is not pino JSON. */
  time: number | null;
  record: Record<string, unknown> | null;
}

export function parseLogLine(raw: string): LogLine {
  if (!raw.startsWith('{')) return { raw, time: null, record: null };
  try {
    const record = JSON.parse(raw) as Record<string, unknown>;
    return { raw, time: typeof record.time === 'number' ? record.time : null, record };
  } catch {
    return { raw, time: null, record: null };
  }
}

const two = (n: number, width = 2) => String(n).padStart(width, '0');

function clock(ms: number): string {
  const date = new Date(ms);
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${two(date.getMilliseconds(), 3)}`;
}

function fieldText(value: unknown): string {
  if (value !== null && typeof value === 'object') {
    const error = value as { message?: unknown };
    return typeof error.message === 'string' ? JSON.stringify(error.message) : JSON.stringify(value);
  }
  return typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value);
}

/** One line for a person; `process` is prefixed when lines of several processes are shown together. */
export function formatLogLine(line: LogLine, process?: string): string {
  const prefix = process ? `[${process}] ` : '';
  if (!line.record) return `${prefix}${line.raw}`;
  const record = line.record;
  const level = LEVELS[record.level as number] ?? String(record.level ?? '');
  const extra = Object.entries(record)
    .filter(([key]) => !QUIET_KEYS.has(key))
    .map(([key, value]) => `${key}=${fieldText(value)}`);
  const time = line.time === null ? '' : `${clock(line.time)} `;
  return `${time}${level.padEnd(5)} ${prefix}${String(record.msg ?? '')}${extra.length ? `  ${extra.join(' ')}` : ''}`;
}

/** Lines of several logs in time order; a line without a time keeps the time of the line before it. */
export function interleave(logs: readonly { process: string; lines: readonly string[] }[]): { process: string; line: LogLine; at: number }[] {
  const all: { process: string; line: LogLine; at: number; order: number }[] = [];
  let order = 0;
  for (const log of logs) {
    let last = 0;
    for (const raw of log.lines) {
      const line = parseLogLine(raw);
      last = line.time ?? last;
      all.push({ process: log.process, line, at: last, order: order++ });
    }
  }
  return all.sort((a, b) => a.at - b.at || a.order - b.order).map(({ process, line, at }) => ({ process, line, at }));
}
