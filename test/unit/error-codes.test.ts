import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATA_ERROR_CODES } from '../../src/data/protocol.js';
import { ROUTER_ERRORS } from '../../src/router/errors.js';
import { CLI_ERRORS, ExitCode, HTTP_ERRORS } from '../../src/shared/error-codes.js';
import { failure, usageError } from '../../src/shared/errors.js';

const SRC = path.join(import.meta.dirname, '..', '..', 'src');

function sources(dir = SRC): { file: string; text: string }[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [{ file: path.relative(SRC, full), text: fs.readFileSync(full, 'utf8') }] : [];
  });
}

/** Every (file, code, status?) a source file answers or throws, found by the shapes the code uses. */
function usedCodes(): { file: string; code: string; status?: number }[] {
  const found: { file: string; code: string; status?: number }[] = [];
  for (const { file, text } of sources()) {
    if (file === path.join('shared', 'error-codes.ts')) continue;
    for (const m of text.matchAll(/new HttpError\(\s*(\d{3}),[\s\S]*?,\s*'([a-z_]+)',?\s*\)/g)) found.push({ file, code: m[2]!, status: Number(m[1]) });
    for (const m of text.matchAll(/\b(?:code: |routerError\(|sendError\(\w+, )'([a-z_]+)'/g)) found.push({ file, code: m[1]! });
    for (const m of text.matchAll(/'(E_[A-Z_]+)'/g)) found.push({ file, code: m[1]! });
  }
  return found;
}

describe('the error-code catalogue', () => {
  it('lists every HTTP error code with its status', () => {
    const listed = Object.fromEntries(Object.entries(HTTP_ERRORS).map(([code, entry]) => [code, entry.status]));
    expect(listed).toEqual({
      bad_path: 400,
      bad_customer_id: 400,
      no_customer_claim: 400,
      invalid_body: 400,
      bad_request: 400,
      no_data: 400,
      name_and_email_required: 400,
      invalid_field: 400,
      product_id_required: 400,
      invalid_quantity: 400,
      cart_empty: 400,
      unauthorized: 401,
      forbidden: 403,
      not_found: 404,
      customer_not_found: 404,
      product_not_found: 404,
      not_in_cart: 404,
      order_not_found: 404,
      method_not_allowed: 405,
      request_timeout: 408,
      email_taken: 409,
      customer_exists: 409,
      product_gone: 409,
      not_drained: 409,
      fence_lost: 409,
      stale_owner: 409,
      conflict: 409,
      body_too_large: 413,
      invalid_settings: 422,
      not_declared: 422,
      rate_limited: 429,
      internal: 500,
      cell_connection_lost: 502,
      cell_unavailable: 503,
      no_cell: 503,
      customer_moving: 503,
      mapping_unconfirmed: 503,
      overloaded: 503,
      too_many_connections: 503,
      database_busy: 503,
      control_plane_unavailable: 503,
      cell_timeout: 504,
    });
  });

  it('lists every CLI error kind with its exit code', () => {
    expect(Object.fromEntries(Object.entries(CLI_ERRORS).map(([code, entry]) => [code, entry.exit]))).toEqual({
      E_FAILED: 1,
      E_USAGE: 2,
      E_TEMPLATE: 1,
      E_MIGRATION_REFUSED: 1,
      E_MIGRATION_BUSY: 1,
      E_MIGRATION_RUNNING: 1,
      E_MIGRATION_TAKEN_OVER: 1,
      E_MIGRATION_INTERRUPTED: 1,
      E_TABLES: 1,
      E_DATA_API: 1,
      E_CONTROL_URL: 1,
      E_CONTROL_UNAVAILABLE: 1,
      E_CONTROL_SCHEMA: 1,
      E_CONTROL_NOT_EMPTY: 1,
      E_COPY_MISMATCH: 1,
      E_MAPPING_CHANGED: 1,
      E_ONLY_COPY: 1,
      E_CONTROL_BEHIND: 1,
      E_PURGE_OVERTAKEN: 1,
      E_DATABASE_BUSY: 1,
      E_DOCKER_UNAVAILABLE: 1,
      E_IMAGE_BASE_MISSING: 1,
      E_IMAGE_BUILD: 1,
      E_ENGINE: 1,
    });
    expect(ExitCode).toEqual({ ok: 0, failure: 1, usage: 2, unhealthy: 3, inconsistent: 4, interrupted: 130 });
    expect([failure('x').exitCode, failure('x', 'E_TEMPLATE').code, usageError('x').exitCode, usageError('x').code]).toEqual([1, 'E_TEMPLATE', 2, 'E_USAGE']);
  });

  it('the router answers each of its codes with the catalogue status', () => {
    for (const [code, entry] of Object.entries(ROUTER_ERRORS)) {
      expect(HTTP_ERRORS[code as keyof typeof HTTP_ERRORS]).toMatchObject({ status: entry.status });
      expect(HTTP_ERRORS[code as keyof typeof HTTP_ERRORS].by).toContain('router');
    }
  });

  it('the cell data API answers only catalogued codes', () => {
    for (const code of DATA_ERROR_CODES) expect(HTTP_ERRORS[code].by, code).toContain('data-api');
  });

  it('no source file uses a code (or a status for it) that is not catalogued', () => {
    const used = usedCodes();
    expect(used.length).toBeGreaterThan(40); // the scan finds the codes at all
    const stray = used.filter(({ code, status }) => {
      if (code.startsWith('E_')) return !(code in CLI_ERRORS);
      const entry: { status: number; alsoStatus?: readonly number[] } | undefined = HTTP_ERRORS[code as keyof typeof HTTP_ERRORS];
      return !entry || (status !== undefined && status !== entry.status && !entry.alsoStatus?.includes(status));
    });
    expect(stray).toEqual([]);
  });
});
