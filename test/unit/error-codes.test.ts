import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATA_ERROR_CODES } from '../../src/data/protocol.js';
import { ROUTER_ERRORS } from '../../src/router/errors.js';
import { CLI_ERRORS, type CliErrorCode, ExitCode, HTTP_ERRORS, type HttpErrorCode } from '../../src/shared/error-codes.js';
import { HttpError } from '../../src/shared/http.js';
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
    // new HttpError('code', message[, another status the catalogue allows for it])
    for (const m of text.matchAll(/new HttpError\(\s*'([a-z_]+)',([\s\S]*?)\)\s*;?$/gm)) {
      const status = /,\s*(\d{3})\s*$/.exec(m[2]!)?.[1];
      found.push({ file, code: m[1]!, ...(status ? { status: Number(status) } : {}) });
    }
    for (const m of text.matchAll(/\b(?:code: |routerError\(|sendError\(\w+, )'([a-z_]+)'/g)) found.push({ file, code: m[1]! });
    for (const m of text.matchAll(/'(E_[A-Z_]+)'/g)) found.push({ file, code: m[1]! });
  }
  return found;
}

describe('the error-code catalogue', () => {
  it('an error answer takes its status from the catalogue, the one table the code reads', () => {
    for (const [code, entry] of Object.entries(HTTP_ERRORS)) expect(new HttpError(code as HttpErrorCode, 'x').status, code).toBe(entry.status);
    // Another status only where the catalogue lists it for that code.
    expect(new HttpError('product_not_found', 'x', 400).status).toBe(400);
  });

  it('a CLI error takes its exit code from the catalogue', () => {
    for (const [code, entry] of Object.entries(CLI_ERRORS)) {
      const made = code === 'E_USAGE' ? usageError('x') : failure('x', code as CliErrorCode);
      expect([made.code, made.exitCode], code).toEqual([code, entry.exit]);
    }
    expect(failure('x')).toMatchObject({ code: 'E_FAILED', exitCode: ExitCode.failure });
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
