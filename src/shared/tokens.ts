// Customer tokens for JWT mode (HS256, a `customer_id` claim): made by `cellctl token` and by the
// workload generator, verified by the router (router/auth.ts).
import { SignJWT } from 'jose';

/** Always with an expiry: the router refuses tokens without one unless jwtRequireExp is off. */
export async function signCustomerToken(key: Uint8Array, customerId: string, ttlSeconds: number): Promise<string> {
  return new SignJWT({ customer_id: customerId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .setIssuer('cellctl')
    .sign(key);
}
