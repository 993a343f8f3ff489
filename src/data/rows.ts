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

/** The value to bind so that SQLite stores what the source had: BigInt binds INTEGER, number binds REAL. */
export function decodeValue(value: WireValue): bigint | number | string | Buffer | null {
  if (value === null || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if ('$i' in value) return BigInt(value.$i);
  if ('$r' in value) return value.$r;
  return Buffer.from(value.$b, 'base64');
}

/** The hash of one row's encoded values (the cell column already left out). */
export const rowHash = (encoded: readonly WireValue[]): number => hash32(JSON.stringify(encoded));

/** Adds row hashes into a set's checksum. */
export const addChecksum = (sum: number, hash: number): number => (sum + hash) % CHECKSUM_MODULUS;

/** The checksum of encoded rows, leaving out the column at `skip` (-1: none). */
export function checksumRows(rows: readonly WireValue[][], skip: number): number {
  let sum = 0;
  for (const row of rows) sum = addChecksum(sum, rowHash(skip < 0 ? row : row.filter((_, index) => index !== skip)));
  return sum;
}

/** A total of row hashes as SQL's SUM returns it, reduced to a checksum. */
export const checksumOfSum = (total: bigint | number | null): number => (total === null ? 0 : Number(BigInt(total) % BigInt(CHECKSUM_MODULUS)));

/** `cellctl_wire_hash(col, …)`: rowHash over raw SQL values, for summaries computed inside SQLite. */
export const WIRE_HASH_FUNCTION = 'cellctl_wire_hash';

export function registerWireHash(db: Database.Database): void {
  db.function(WIRE_HASH_FUNCTION, { varargs: true, deterministic: true, safeIntegers: true }, (...values: unknown[]) =>
    BigInt(rowHash(values.map(encodeValue))),
  );
}
