import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_TEMPLATES_DIR, findTemplate, loadTemplate } from '../../src/templates/catalog.js';
import { copyOrder, validateTemplate } from '../../src/templates/template.js';
import { cleanup, tempDir } from '../helpers.js';

afterAll(cleanup);

const valid = {
  name: 'shop',
  run: { app: 'basic' },
  schema: { file: 'schema.sql', version: 1 },
  customerTables: [
    { table: 'customers', customerColumn: 'id', parent: null },
    { table: 'orders', customerColumn: 'customer_id', parent: 'customers' },
    { table: 'lines', customerColumn: 'customer_id', parent: 'orders' },
  ],
  capacity: 10,
};

describe('template validation', () => {
  it('accepts a complete template and fills defaults', () => {
    const template = validateTemplate(valid, '/t/shop', 'shop');
    expect(template.healthPath).toBe('/health');
    expect(template.referenceTables).toEqual([]);
    expect(template.seed).toBeNull();
  });

  it.each([
    ['a missing run', { ...valid, run: undefined }, /run/],
    ['a missing schema version', { ...valid, schema: { file: 'schema.sql' } }, /schema\.version/],
    ['a zero capacity', { ...valid, capacity: 0 }, /capacity/],
    ['an unknown built-in app', { ...valid, run: { app: 'nope' } }, /run/],
    ['an empty command', { ...valid, run: { command: [] } }, /run/],
    ['an unknown field', { ...valid, colour: 'blue' }, /colour/],
    ['a name that differs from the folder', { ...valid, name: 'other' }, /must match its folder/],
    [
      'a parent that is not declared',
      { ...valid, customerTables: [{ table: 'orders', customerColumn: 'c', parent: 'customers' }] },
      /not a declared customer table/,
    ],
    [
      'a parent cycle',
      {
        ...valid,
        customerTables: [
          { table: 'a', customerColumn: 'c', parent: 'b' },
          { table: 'b', customerColumn: 'c', parent: 'a' },
        ],
      },
      /cycle/,
    ],
    ['a table both customer-scoped and reference', { ...valid, referenceTables: ['orders'] }, /both customer-scoped and reference/],
    ['a health path without a slash', { ...valid, healthPath: 'health' }, /healthPath/],
    [
      'a cell column that is the customer column',
      { ...valid, customerTables: [{ table: 'customers', customerColumn: 'id', parent: null, cellColumn: 'id' }] },
      /cellColumn cannot be its customerColumn/,
    ],
    [
      'a cell column that is not an identifier',
      { ...valid, customerTables: [{ table: 'customers', customerColumn: 'id', parent: null, cellColumn: 'cell id' }] },
      /cellColumn/,
    ],
  ])('refuses %s with a message naming the field', (_what, raw, message) => {
    expect(() => validateTemplate(raw, '/t/shop', 'shop')).toThrow(message);
  });

  it('orders customer tables parents first, whatever the declaration order', () => {
    const order = copyOrder([
      { table: 'lines', customerColumn: 'c', parent: 'orders', cellColumn: null },
      { table: 'orders', customerColumn: 'c', parent: 'customers', cellColumn: null },
      { table: 'customers', customerColumn: 'id', parent: null, cellColumn: null },
    ]).map((table) => table.table);
    expect(order).toEqual(['customers', 'orders', 'lines']);
  });
});

describe('template loading', () => {
  it('loads both built-in templates', () => {
    const basic = findTemplate('basic', [BUILTIN_TEMPLATES_DIR]);
    const shop = findTemplate('ecommerce', [BUILTIN_TEMPLATES_DIR]);
    expect(basic.run).toEqual({ app: 'basic' });
    expect(shop.referenceTables).toEqual(['products']);
    expect(shop.customerTables.map((table) => table.table)).toContain('order_events');
  });

  it('refuses a template whose schema lacks a declared table or column', () => {
    const dir = path.join(tempDir(), 'shop');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'schema.sql'), 'CREATE TABLE customers (id TEXT PRIMARY KEY); CREATE TABLE orders (id TEXT);');
    fs.writeFileSync(path.join(dir, 'template.json'), JSON.stringify(valid));
    expect(() => loadTemplate(dir)).toThrow(/table "orders" has no column "customer_id".*customer table "lines" is not created/);
  });

  it('refuses a cell column the schema lacks, and a customer table without rowids', () => {
    const dir = path.join(tempDir(), 'shop');
    fs.mkdirSync(dir);
    fs.writeFileSync(
      path.join(dir, 'schema.sql'),
      'CREATE TABLE customers (id TEXT PRIMARY KEY) WITHOUT ROWID; CREATE TABLE orders (customer_id TEXT); CREATE TABLE lines (customer_id TEXT);',
    );
    const customers = { table: 'customers', customerColumn: 'id', parent: null, cellColumn: 'cell_id' };
    fs.writeFileSync(path.join(dir, 'template.json'), JSON.stringify({ ...valid, customerTables: [customers, ...valid.customerTables.slice(1)] }));
    expect(() => loadTemplate(dir)).toThrow(/table "customers" has no column "cell_id".*WITHOUT ROWID/);
  });

  it('refuses a schema file outside the template folder', () => {
    const dir = path.join(tempDir(), 'shop');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'template.json'), JSON.stringify({ ...valid, schema: { file: '../../etc/passwd', version: 1 } }));
    expect(() => loadTemplate(dir)).toThrow(/must be inside the template folder/);
  });

  it('names the available templates when one is unknown', () => {
    expect(() => findTemplate('nope', [BUILTIN_TEMPLATES_DIR])).toThrow(/available: basic, ecommerce/);
  });
});
