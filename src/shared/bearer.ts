// The one check of an admin API's bearer token (the router's and the supervisor's), in constant time.
import { timingSafeEqual } from 'node:crypto';

/** Whether an Authorization header carries exactly `Bearer <token>`. */
export function hasBearerToken(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
