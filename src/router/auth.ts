// JWT mode: the customer a request acts for comes from an HS256 token's `customer_id` claim (jose).
// Verified tokens are remembered until they expire, so a client's repeated token costs one lookup.
import { jwtVerify } from 'jose';

export type AuthResult = { ok: true; customerId: string } | { ok: false; status: 401; message: string };

export interface VerifierOptions {
  /** Refuse tokens without an `exp` claim (settings: jwtRequireExp): a leaked token must not work for ever. */
  requireExp?: boolean;
}

interface Remembered {
  customerId: string;
  expiresAt: number;
}

const CACHE_LIMIT = 10_000;

export class TokenVerifier {
  private readonly cache = new Map<string, Remembered>();
  private readonly requiredClaims: string[];

  constructor(
    private readonly key: Uint8Array,
    options: VerifierOptions = {},
  ) {
    this.requiredClaims = options.requireExp === false ? [] : ['exp'];
  }

  async verify(authorization: string | undefined, now: number): Promise<AuthResult> {
    if (!authorization?.startsWith('Bearer ')) {
      return { ok: false, status: 401, message: 'missing bearer token: send "Authorization: Bearer <token>" (cellctl token <customer> makes one)' };
    }
    const token = authorization.slice(7).trim();
    const known = this.cache.get(token);
    if (known && known.expiresAt > now) return { ok: true, customerId: known.customerId };
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], requiredClaims: this.requiredClaims, currentDate: new Date(now) });
      const customerId = payload.customer_id;
      if (typeof customerId !== 'string' || customerId === '') {
        return { ok: false, status: 401, message: 'token has no customer_id claim' };
      }
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(token, { customerId, expiresAt: payload.exp ? payload.exp * 1000 : now + 60_000 });
      return { ok: true, customerId };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const hint = /missing required "exp"/.test(reason) ? ' (tokens need an expiry: "cellctl token" sets one; "jwtRequireExp": false in cellctl.json allows tokens without)' : '';
      return { ok: false, status: 401, message: `invalid token: ${reason}${hint}` };
    }
  }
}
