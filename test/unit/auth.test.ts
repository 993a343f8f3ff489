// JWT mode's token checks: a token must carry an expiry unless the workspace allows otherwise.
import { decodeJwt, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { TokenVerifier } from '../../src/router/auth.js';
import { signCustomerToken } from '../../src/shared/tokens.js';

const key = new TextEncoder().encode('k'.repeat(32));
const bearer = (token: string) => `Bearer ${token}`;
const unsigned = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' });

describe('token verification', () => {
  it('refuses a token without exp by default', async () => {
    const token = await unsigned({ customer_id: 'alice' }).sign(key);
    const result = await new TokenVerifier(key).verify(bearer(token), Date.now());
    expect(result).toMatchObject({ ok: false, status: 401 });
    expect(!result.ok && result.message).toMatch(/exp/);
  });

  it('accepts a token without exp when jwtRequireExp is off', async () => {
    const token = await unsigned({ customer_id: 'alice' }).sign(key);
    expect(await new TokenVerifier(key, { requireExp: false }).verify(bearer(token), Date.now())).toEqual({ ok: true, customerId: 'alice' });
  });

  it('accepts a token with exp, and refuses it once expired', async () => {
    const fresh = await unsigned({ customer_id: 'alice' }).setExpirationTime('1h').sign(key);
    expect(await new TokenVerifier(key).verify(bearer(fresh), Date.now())).toEqual({ ok: true, customerId: 'alice' });
    const stale = await unsigned({ customer_id: 'alice' }).setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(key);
    expect(await new TokenVerifier(key).verify(bearer(stale), Date.now())).toMatchObject({ ok: false, status: 401 });
  });

  it('signs every customer token with an expiry (cellctl token)', async () => {
    const before = Math.floor(Date.now() / 1000);
    const claims = decodeJwt(await signCustomerToken(key, 'alice', 60));
    expect(claims.exp).toBeGreaterThanOrEqual(before + 60);
    expect(claims.exp).toBeLessThanOrEqual(before + 61);
  });
});
