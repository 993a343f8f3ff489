// Validation messages for every outside input parsed with zod: one line a person can act on.
import type { z } from 'zod';

/** Turns zod's issues into one line that names the field, e.g. `limits.maxBodyBytes: expected number`. */
export function formatIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(top level)'}: ${issue.message}`).join('; ');
}
