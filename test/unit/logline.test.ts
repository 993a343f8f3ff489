import { describe, expect, it } from 'vitest';
import { formatLogLine, interleave, parseLogLine } from '../../src/cli/views/logline.js';

describe('log lines for people', () => {
  it('shows time, level, message and the other fields; other lines as they are', () => {
    const line = parseLogLine(
      JSON.stringify({
        level: 40,
        time: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
        pid: 1,
        hostname: 'h',
        msg: 'slow',
        kind: 'process.stopped',
        err: { message: 'boom', stack: 'x' },
      }),
    );
    const text = formatLogLine(line, 'c1');
    expect(text).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} WARN  \[c1\] slow  kind=process\.stopped err="boom"$/);
    expect(formatLogLine(parseLogLine('crashy: failing on purpose'))).toBe('crashy: failing on purpose');
  });

  it('interleaves logs by time; a line without a time follows the line before it', () => {
    const at = (t: number, msg: string) => JSON.stringify({ level: 30, time: t, msg });
    const merged = interleave([
      { process: 'a', lines: [at(1, 'a1'), 'a-raw', at(5, 'a5')] },
      { process: 'b', lines: [at(3, 'b3')] },
    ]);
    expect(merged.map((entry) => entry.line.record?.msg ?? entry.line.raw)).toEqual(['a1', 'a-raw', 'b3', 'a5']);
  });
});
