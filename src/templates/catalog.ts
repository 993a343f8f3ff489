// Finds templates on disk and loads them: the built-in folder plus the workspace's templatePaths.
// Loading also applies the schema to an in-memory database, so a template that declares a table or
// column its own schema lacks is refused before any cell is made from it.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeError, failure, usageError } from '../shared/errors.js';
import { TEMPLATE_NAME } from '../shared/names.js';
import { type Template, validateTemplate } from './template.js';

export const BUILTIN_TEMPLATES_DIR = fileURLToPath(new URL('../../templates', import.meta.url));

export interface TemplateSql {
  schema: string;
  seed: string | null;
}

/** Folders searched for templates, first match wins: the workspace's own, then the built-in ones. */
export function templateSearchPath(home: string, templatePaths: readonly string[]): string[] {
  return [...templatePaths.map((dir) => path.resolve(home, dir)), BUILTIN_TEMPLATES_DIR];
}

/** Folders of the search path that do not exist (a typo in templatePaths), for a warning. */
export function missingTemplateFolders(searchPath: readonly string[]): string[] {
  return searchPath.filter((dir) => !fs.existsSync(dir));
}

/**
 * Templates by name. A search-path entry is a folder of template folders, or one template folder
 * itself (it holds template.json): both forms are accepted.
 */
export function listTemplateDirs(searchPath: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const root of searchPath) {
    if (fs.existsSync(path.join(root, 'template.json'))) {
      if (!found.has(path.basename(root))) found.set(path.basename(root), root);
      continue;
    }
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(root, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const dir = path.join(root, entry.name);
      if (entry.isDirectory() && !found.has(entry.name) && fs.existsSync(path.join(dir, 'template.json'))) {
        found.set(entry.name, dir);
      }
    }
  }
  return found;
}

export function findTemplate(name: string, searchPath: readonly string[]): Template {
  if (!TEMPLATE_NAME.test(name)) {
    throw usageError(`invalid template name "${name}": run "cellctl templates" to see the available ones`);
  }
  const dirs = listTemplateDirs(searchPath);
  const dir = dirs.get(name);
  if (!dir) {
    const known = [...dirs.keys()].sort().join(', ') || 'none';
    throw usageError(`unknown template "${name}" (available: ${known}); add a folder to "templatePaths" in cellctl.json for your own`);
  }
  return loadTemplate(dir);
}

export function loadTemplate(dir: string): Template {
  const file = path.join(dir, 'template.json');
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw failure(`cannot read template ${file}: ${describeError(error)}; fix the JSON or remove the folder`, 'E_TEMPLATE');
  }
  const template = validateTemplate(raw, dir, path.basename(dir));
  checkAgainstSchema(template, readTemplateSql(template));
  return template;
}

export function readTemplateSql(template: Template): TemplateSql {
  const read = (name: string, what: string): string => {
    const file = path.resolve(template.dir, name);
    if (!file.startsWith(path.resolve(template.dir) + path.sep)) {
      throw failure(`template ${template.name}: ${what} "${name}" must be inside the template folder`, 'E_TEMPLATE');
    }
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      throw failure(`template ${template.name}: cannot read its ${what} ${file}; add the file or fix "${what}" in template.json`, 'E_TEMPLATE');
    }
  };
  return { schema: read(template.schema.file, 'schema'), seed: template.seed ? read(template.seed, 'seed') : null };
}

function hasRowid(db: Database.Database, table: string): boolean {
  try {
    db.prepare(`SELECT rowid FROM "${table.replace(/"/g, '""')}" LIMIT 0`).all();
    return true;
  } catch {
    return false;
  }
}

/** Applies the schema (and seed) to a scratch database and checks every declared table and column. */
function checkAgainstSchema(template: Template, sql: TemplateSql): void {
  const db = new Database(':memory:');
  try {
    try {
      db.exec(sql.schema);
      if (sql.seed) db.exec(sql.seed);
    } catch (error) {
      throw failure(`template ${template.name}: its SQL does not run: ${describeError(error)}`, 'E_TEMPLATE');
    }
    const columnsOf = (table: string): Set<string> =>
      new Set((db.pragma(`table_info(${JSON.stringify(table)})`) as { name: string }[]).map((column) => column.name));
    const problems: string[] = [];
    for (const table of template.customerTables) {
      const columns = columnsOf(table.table);
      if (columns.size === 0) problems.push(`customer table "${table.table}" is not created by ${template.schema.file}`);
      else {
        for (const column of [table.customerColumn, table.cellColumn]) {
          if (column !== null && !columns.has(column)) problems.push(`table "${table.table}" has no column "${column}"`);
        }
        if (!hasRowid(db, table.table))
          problems.push(`table "${table.table}" is WITHOUT ROWID: customer tables must be ordinary tables (moves copy them in rowid order)`);
      }
    }
    for (const table of template.referenceTables) {
      if (columnsOf(table).size === 0) problems.push(`reference table "${table}" is not created by ${template.schema.file}`);
    }
    if (problems.length > 0) throw failure(`template ${template.name}: ${problems.join('; ')}`, 'E_TEMPLATE');
  } finally {
    db.close();
  }
}
