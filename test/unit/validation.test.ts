// Validation messages in plain words: a missing field is "missing", a wrong choice names the choices.
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { formatIssues } from '../../src/shared/validation.js';

const schema = z.strictObject({ tables: z.array(z.string()), port: z.number(), auth: z.enum(['none', 'jwt']), name: z.string().min(1, 'give it a name') });

describe('validation messages', () => {
  it('say missing, wrong type, one of, unknown field, and keep a message the schema wrote', () => {
    const parsed = schema.safeParse({ port: 'x', auth: 'sometimes', name: '', extra: 1 });
    expect(parsed.success).toBe(false);
    expect(formatIssues(parsed.error!)).toBe(
      'tables: missing (an array is required); port: must be a number, not a string; auth: must be one of "none", "jwt"; name: give it a name; (top level): unknown field "extra" (a typo?)',
    );
  });
});
