// The template contract (template.json) and its validation. Pure: takes parsed JSON, returns a typed
// template or throws one error that lists every problem and how to fix it.
import { z } from 'zod';
import { BUILTIN_APPS } from '../cell/apps/builtin.js';
import { parentsFirst } from '../data/tables.js';
import { failure } from '../shared/errors.js';
import { TEMPLATE_NAME } from '../shared/names.js';
import { formatIssues } from '../shared/validation.js';

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a SQL identifier (letters, digits, _)');

const customerTableSchema = z.strictObject({
  table: identifier,
  /** The column that holds the customer id. */
  customerColumn: identifier,
  /** The customer-scoped table this one references; its rows are copied first. */
  parent: identifier.nullable().default(null),
  /**
   * A column in which the app records the cell the row lives in (the example systems keep `cell_id`
   * in their rows): a move writes the target's id there, and verification compares rows without it.
   */
  cellColumn: identifier.nullable().default(null),
});

const runSchema = z.union([
  z.strictObject({ app: z.enum(BUILTIN_APPS) }),
  z.strictObject({
    command: z.array(z.string().min(1)).min(1, 'must name the program to run'),
    env: z.record(z.string(), z.string()).default({}),
  }),
]);

export const templateSchema = z.strictObject({
  name: z.string().regex(TEMPLATE_NAME, 'must be lower-case letters, digits and "-", starting with a letter'),
  description: z.string().default(''),
  run: runSchema,
  schema: z.strictObject({
    file: z.string().min(1),
    version: z.number().int().positive(),
  }),
  seed: z.string().min(1).nullable().default(null),
  customerTables: z.array(customerTableSchema).min(1, 'declare at least the table that holds the customer'),
  referenceTables: z.array(identifier).default([]),
  capacity: z.number().int().positive(),
  healthPath: z.string().startsWith('/').default('/health'),
});

export type Template = z.infer<typeof templateSchema> & { dir: string };
export type CustomerTable = Template['customerTables'][number];
export type RunSpec = Template['run'];

/** Validates a parsed template.json found in `dir` (whose last segment must equal its name). */
export function validateTemplate(raw: unknown, dir: string, folderName: string): Template {
  const parsed = templateSchema.safeParse(raw);
  if (!parsed.success) {
    throw failure(`template ${dir}/template.json is invalid: ${formatIssues(parsed.error)}`, 'E_TEMPLATE');
  }
  const template = { ...parsed.data, dir };
  const problems = templateProblems(template, folderName);
  if (problems.length > 0) {
    throw failure(`template ${dir}/template.json is invalid: ${problems.join('; ')}`, 'E_TEMPLATE');
  }
  return template;
}

export function templateProblems(template: Omit<Template, 'dir'>, folderName: string): string[] {
  const problems: string[] = [];
  if (template.name !== folderName) {
    problems.push(`name "${template.name}" must match its folder "${folderName}"`);
  }
  const tables = new Map<string, CustomerTable>();
  for (const table of template.customerTables) {
    if (tables.has(table.table)) problems.push(`customer table "${table.table}" is declared twice`);
    tables.set(table.table, table);
  }
  for (const table of template.customerTables) {
    if (table.parent !== null && !tables.has(table.parent)) {
      problems.push(`customerTables.${table.table}.parent "${table.parent}" is not a declared customer table`);
    }
  }
  for (const table of template.customerTables) {
    if (table.cellColumn !== null && table.cellColumn === table.customerColumn) {
      problems.push(`customerTables.${table.table}.cellColumn cannot be its customerColumn "${table.customerColumn}"`);
    }
  }
  for (const ref of template.referenceTables) {
    if (tables.has(ref)) problems.push(`table "${ref}" cannot be both customer-scoped and reference`);
  }
  if (problems.length === 0 && parentsFirst(template.customerTables) === null) {
    problems.push('customerTables parents form a cycle: each chain of parents must end at a table with "parent": null');
  }
  return problems;
}

/** Customer tables with every parent before its children: the order rows are copied in (reverse to delete). */
export function copyOrder(tables: readonly CustomerTable[]): CustomerTable[] {
  const order = parentsFirst(tables);
  if (!order) throw failure('customer tables form a parent cycle');
  return order;
}
