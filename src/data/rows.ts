// SQLite values on the wire (protocol.ts's PageSection.rows) and the row checksum both sides compute.
// The source's SQLite renders a page's rows as JSON text (json_array), which crosses the mover as one
// string; the target parses it once and checks each value as it decodes it for binding. Integers
// within ±(2^53−1) and text are JSON numbers and strings; a larger integer goes as {"$i": "<digits>"},
// a REAL as {"$r": "<shortest exact decimal>"} (SQLite's own JSON would round it to 15 digits) and a
// BLOB as {"$x": "<hex>"}. Each value lands with the type it had. docs/data-api.md describes it.
import type Database from 'better-sqlite3';
import { hash32 } from '../shared/hash.js';
import { CHECKSUM_MODULUS } from './protocol.js';
import { quoteIdent } from './tables.js';

/** The SQL functions a data API connection registers (registerRowFunctions). */
const REAL_OUT = 'cellctl_real_out';
const ROW_HASH = 'cellctl_row_hash';

/** A decimal JavaScript reads back to the very same double (SQLite's %!.15g would not), −0 included (String(-0) is "0"). */
const realText = (value: number): string => (Object.is(value, -0) ? '-0' : String(value));
const REAL_TEXT = /^-?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$|^-?Infinity$/i;

export function registerRowFunctions(db: Database.Database): void {
  db.function(REAL_OUT, { deterministic: true }, (value: unknown) => realText(Number(value)));
  db.function(ROW_HASH, { deterministic: true, safeIntegers: true }, (text: unknown) => BigInt(hash32(String(text))));
}

/** The largest integer a JSON number carries exactly to a JavaScript parser. */
const MAX_EXACT = Number.MAX_SAFE_INTEGER;

/**
 * The SQL of `value` (a column, NEW.col…) as a wire value; `real` renders a REAL's decimal. Built-in
 * functions only (no iif): capture.ts's triggers use it in an app's connection, whatever its SQLite.
 */
export function wireValueSql(value: string, real: (value: string) => string): string {
  return `CASE typeof(${value})
    WHEN 'blob' THEN json_object('$x', hex(${value}))
    WHEN 'real' THEN json_object('$r', ${real(value)})
    WHEN 'integer' THEN CASE WHEN ${value} BETWEEN ${-MAX_EXACT} AND ${MAX_EXACT} THEN ${value} ELSE json_object('$i', CAST(${value} AS TEXT)) END
    ELSE ${value} END`;
}

/** The JSON value of column `column` as the export sends it (a REAL exact, through the connection's own function). */
const exportValueSql = (column: string): string => wireValueSql(quoteIdent(column), (value) => `${REAL_OUT}(${value})`);

/** A JSON array of a row's values, in the order of `columns`. */
export const exportRowSql = (columns: readonly string[]): string => `json_array(${columns.map(exportValueSql).join(', ')})`;
const DIGITS = /^-?\d+$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** SQLite's INTEGER range; a wider one would fail at binding, after the checks. */
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function int64(digits: string): bigint {
  const value = BigInt(digits);
  if (value < INT64_MIN || value > INT64_MAX) throw new Error(`{"$i": "${digits}"} is outside SQLite's 64-bit integer range`);
  return value;
}

/** A value to bind as SQLite should store it (BigInt binds INTEGER, number REAL), or throws saying why it is no wire value. */
export function decodeWire(value: unknown): bigint | number | string | Buffer | null {
  if (value === null || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`${value} is a bare number that is not an integer within ±(2^53−1) (send a REAL as {"$r": "<decimal>"})`);
    return BigInt(value);
  }
  if (typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const text = (value as Record<string, unknown>)[keys[0] ?? ''];
    if (keys.length === 1 && typeof text === 'string') {
      if (keys[0] === '$i' && DIGITS.test(text)) return int64(text);
      if (keys[0] === '$r' && REAL_TEXT.test(text)) return Number(text);
      if (keys[0] === '$x' && HEX.test(text)) return Buffer.from(text, 'hex');
    }
  }
  throw new Error(`${JSON.stringify(value)} is not a wire value (null, an integer, text, {"$i": digits}, {"$r": decimal} or {"$x": hex})`);
}

/** The hash of a row as the SQL text of its values (quote(); a REAL as its exact decimal, marked). */
export function rowHashSql(columns: readonly string[]): string {
  const parts = columns.map((column) => {
    const c = quoteIdent(column);
    return `CASE typeof(${c}) WHEN 'real' THEN 'r' || ${REAL_OUT}(${c}) ELSE quote(${c}) END`;
  });
  return `${ROW_HASH}(concat_ws(',', ${parts.join(', ')}))`;
}

/** rowHashSql over named parameters @v0…@v(n-1) instead of columns: the hash a row of these values has once stored (the same schema, so the same types). */
export function rowHashOfParamsSql(count: number): string {
  const parts = Array.from({ length: count }, (_, index) => {
    const p = `@v${index}`;
    return `CASE typeof(${p}) WHEN 'real' THEN 'r' || ${REAL_OUT}(${p}) ELSE quote(${p}) END`;
  });
  return `${ROW_HASH}(concat_ws(',', ${parts.join(', ')}))`;
}

/** A total of row hashes as SQL's SUM returns it, reduced to a checksum. */
export const checksumOfSum = (total: bigint | number | null): number => (total === null ? 0 : Number(BigInt(total) % BigInt(CHECKSUM_MODULUS)));
