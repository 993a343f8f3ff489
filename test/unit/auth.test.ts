// JWT mode's token checks: a token must carry an expiry unless the workspace allows otherwise, and
// a customer_id claim; the header may carry it with or without "Bearer ".
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
    expect(result).toMatchObject({ kind: 'invalid' });
    expect(result.kind === 'invalid' && result.reason).toMatch(/exp/);
  });

  it('accepts a token without exp when jwtRequireExp is off', async () => {
    const token = await unsigned({ customer_id: 'alice' }).sign(key);
    expect(await new TokenVerifier(key, { requireExp: false }).verify(bearer(token), Date.now())).toEqual({ kind: 'ok', customerId: 'alice' });
  });

  it('accepts a token with exp, and refuses it once expired', async () => {
    const fresh = await unsigned({ customer_id: 'alice' }).setExpirationTime('1h').sign(key);
    expect(await new TokenVerifier(key).verify(bearer(fresh), Date.now())).toEqual({ kind: 'ok', customerId: 'alice' });
    const stale = await unsigned({ customer_id: 'alice' })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(key);
    expect(await new TokenVerifier(key).verify(bearer(stale), Date.now())).toMatchObject({ kind: 'invalid' });
  });

  it('reads the token with or without "Bearer ", as the example router does', async () => {
    const fresh = await unsigned({ customer_id: 'alice' }).setExpirationTime('1h').sign(key);
    expect(await new TokenVerifier(key).verify(fresh, Date.now())).toEqual({ kind: 'ok', customerId: 'alice' });
    expect(await new TokenVerifier(key).verify(undefined, Date.now())).toEqual({ kind: 'no-token' });
  });

  it('tells a valid token without a customer_id claim from an invalid one', async () => {
    for (const claims of [{}, { customer_id: '' }, { customer_id: 42 }]) {
      const token = await unsigned(claims).setExpirationTime('1h').sign(key);
      expect(await new TokenVerifier(key).verify(bearer(token), Date.now())).toEqual({ kind: 'no-claim' });
    }
    expect(await new TokenVerifier(key).verify(bearer('not.a.jwt'), Date.now())).toMatchObject({ kind: 'invalid' });
  });

  it('signs every customer token with an expiry (cellctl token)', async () => {
    const before = Math.floor(Date.now() / 1000);
    const claims = decodeJwt(await signCustomerToken(key, 'alice', 60));
    expect(claims.exp).toBeGreaterThanOrEqual(before + 60);
    expect(claims.exp).toBeLessThanOrEqual(before + 61);
  });
});
