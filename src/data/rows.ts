// SQLite values on the wire (protocol.ts's WireValue) and the row checksum both sides compute. Rows
// are read with safeIntegers, so an integer is a BigInt and a real a number: each encodes to a form
// that decodes to a value SQLite stores with the same type, and the checksum hashes the encoded form.
import type Database from 'better-sqlite3';
import { hash32 } from '../shared/hash.js';
import type { WireValue } from './protocol.js';

/** Checksums are sums of 32-bit row hashes kept below 2^52, so they stay exact JSON numbers. */
const CHECKSUM_MODULUS = 2 ** 52;

export function encodeValue(value: unknown): WireValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : { $i: value.toString() };
  }
  // With safeIntegers every JS number is a REAL; an integral one must not land as an INTEGER.
  if (typeof value === 'number') return Number.isInteger(value) ? { $r: value } : value;
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return { $b: value.toString('base64') };
  throw new Error(`cannot encode a SQLite value of type ${typeof value}`);
}

/**
 * The value to bind so that SQLite stores what the source had (BigInt binds INTEGER, number binds
 * REAL), for a value straight off the wire, checked as it goes: what is not a WireValue throws
 * with `where` in the message (the import's schema leaves row values unchecked, for speed).
 */
export function decodeWire(value: unknown, where: string): bigint | number | string | Buffer | null {
  if (value === null || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${where}: ${value} is not a finite number`);
    return Number.isInteger(value) ? BigInt(value) : value;
  }
  if (typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const tagged = value as Record<string, unknown>;
    if (keys.length === 1) {
      if (keys[0] === '$i' && typeof tagged.$i === 'string' && /^-?\d+$/.test(tagged.$i)) return BigInt(tagged.$i);
      if (keys[0] === '$r' && typeof tagged.$r === 'number' && Number.isFinite(tagged.$r)) return tagged.$r;
      if (keys[0] === '$b' && typeof tagged.$b === 'string') return Buffer.from(tagged.$b, 'base64');
    }
  }
  throw new Error(`${where}: ${JSON.stringify(value)} is not a wire value (null, a number, text, {"$i": digits}, {"$r": number} or {"$b": base64})`);
}

/** The hash of one row's encoded values (the cell column already left out). */
export const rowHash = (encoded: readonly WireValue[]): number => hash32(JSON.stringify(encoded));

/** Adds row hashes into a set's checksum. */
export const addChecksum = (sum: number, hash: number): number => (sum + hash) % CHECKSUM_MODULUS;

/** A total of row hashes as SQL's SUM returns it, reduced to a checksum. */
export const checksumOfSum = (total: bigint | number | null): number => (total === null ? 0 : Number(BigInt(total) % BigInt(CHECKSUM_MODULUS)));

/** `cellctl_wire_hash(col, …)`: rowHash over raw SQL values, for summaries computed inside SQLite. */
export const WIRE_HASH_FUNCTION = 'cellctl_wire_hash';

export function registerWireHash(db: Database.Database): void {
  db.function(WIRE_HASH_FUNCTION, { varargs: true, deterministic: true, safeIntegers: true }, (...values: unknown[]) =>
    BigInt(rowHash(values.map(encodeValue))),
  );
}
