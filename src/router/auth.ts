// JWT mode: the customer a request acts for comes from an HS256 token's `customer_id` claim (jose),
// read from `Authorization` with or without "Bearer " as the intermediate example's router does.
// Verified tokens are remembered until they expire, so a client's repeated token costs one lookup.
import { jwtVerify } from 'jose';

export type AuthResult =
  | { kind: 'ok'; customerId: string }
  | { kind: 'no-token' }
  | { kind: 'invalid'; reason: string }
  /** A valid token without a usable `customer_id` claim (missing, empty, not a string). */
  | { kind: 'no-claim' };

export interface VerifierOptions {
  /** Refuse tokens without an `exp` claim (settings: jwtRequireExp): a leaked token must not work for ever. */
  requireExp?: boolean;
}

interface Remembered {
  customerId: string;
  expiresAt: number;
}

const CACHE_LIMIT = 10_000;
const BEARER = /^bearer\s+/i;

/** The token in an Authorization header, with or without the "Bearer " scheme; null when there is none. */
export function tokenFrom(authorization: string | undefined): string | null {
  const value = authorization?.trim() ?? '';
  const token = BEARER.test(value) ? value.replace(BEARER, '') : /^bearer$/i.test(value) ? '' : value;
  return token === '' ? null : token;
}

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
    const token = tokenFrom(authorization);
    if (token === null) return { kind: 'no-token' };
    const known = this.cache.get(token);
    if (known && known.expiresAt > now) return { kind: 'ok', customerId: known.customerId };
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], requiredClaims: this.requiredClaims, currentDate: new Date(now) });
      const customerId = payload.customer_id;
      if (typeof customerId !== 'string' || customerId === '') return { kind: 'no-claim' };
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(token, { customerId, expiresAt: payload.exp ? payload.exp * 1000 : now + 60_000 });
      return { kind: 'ok', customerId };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const hint = /missing required "exp"/.test(reason)
        ? ' (tokens need an expiry: "cellctl token" sets one; "jwtRequireExp": false in cellctl.json allows tokens without)'
        : '';
      return { kind: 'invalid', reason: `${reason}${hint}` };
    }
  }
}
