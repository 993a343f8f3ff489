// Validation messages for every outside input parsed with zod: one line a person can act on, in
// plain words ("missing", "must be one of"), not zod's ("expected array, received undefined").
import type { z } from 'zod';

const a = (word: string): string => `${/^[aeiou]/.test(word) ? 'an' : 'a'} ${word}`;

/** One issue in plain words; a message a schema wrote itself is kept as written. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const zods = issue.message;
  if (issue.code === 'invalid_type') {
    if (/received undefined$/.test(zods)) return `missing (${a(issue.expected)} is required)`;
    const received = /received (\S+)$/.exec(zods)?.[1];
    return `must be ${a(issue.expected)}${received ? `, not ${a(received)}` : ''}`;
  }
  if (issue.code === 'invalid_value' && zods.startsWith('Invalid option')) {
    return `must be one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
  }
  if (issue.code === 'unrecognized_keys' && zods.startsWith('Unrecognized key')) {
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')} (a typo?)`;
  }
  return zods.replace(/^Invalid input: /, '');
}

/** Turns zod's issues into one line that names the field, e.g. `limits.maxBodyBytes: must be a number, not a string`. */
export function formatIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(top level)'}: ${describeIssue(issue)}`).join('; ');
}
