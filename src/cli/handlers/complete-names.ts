// cellctl __complete KIND [PREFIX]: one name per line for the completion scripts. Quiet by design: a
// folder that is no workspace, or one that cannot be read, offers nothing rather than an error in
// the middle of the user's command line.
import { BUILTIN_TEMPLATES_DIR, listTemplateDirs, templateSearchPath } from '../../templates/catalog.js';
import { defaultSettings } from '../../workspace/settings.js';
import { isWorkspace, openWorkspace, readSettings } from '../../workspace/workspace.js';
import { ROUTER } from '../../supervisor/protocol.js';
import { homeOf } from '../context.js';
import type { NameKind, InputOf } from '../define.js';
import type { completeNames } from '../commands/complete-names.js';

/** Customers offered at once: enough to choose from, few enough to read a million-customer plane quickly. */
const CUSTOMERS_OFFERED = 200;
const MIGRATIONS_OFFERED = 50;

export async function run(input: InputOf<typeof completeNames>): Promise<void> {
  const { kind, prefix } = input.args;
  const found = await namesOf(kind, homeOf(input), prefix ?? '').catch(() => []);
  const offered = found.filter((name) => name.startsWith(prefix ?? ''));
  if (offered.length > 0) process.stdout.write(`${offered.join('\n')}\n`);
}

async function namesOf(kind: NameKind, home: string, prefix: string): Promise<string[]> {
  if (kind === 'setting') return settingNames(defaultSettings(8000));
  if (kind === 'template') {
    const searchPath = isWorkspace(home) ? templateSearchPath(home, readSettings(home).templatePaths) : [BUILTIN_TEMPLATES_DIR];
    return [...listTemplateDirs(searchPath).keys()].sort();
  }
  if (!isWorkspace(home)) return [];
  const ws = await openWorkspace(home);
  try {
    if (kind === 'customer') return await ws.plane.customerIdsStartingWith(prefix, CUSTOMERS_OFFERED);
    if (kind === 'migration') return (await ws.plane.listMigrations({ limit: MIGRATIONS_OFFERED })).map((migration) => String(migration.id));
    const cells = (await ws.plane.listCells()).map((cell) => cell.id);
    return kind === 'process' ? [...cells, ROUTER] : cells;
  } finally {
    await ws.plane.close();
  }
}

/** Every setting's dotted name (limits.maxBodyBytes), the objects among them too. */
function settingNames(value: object, prefix = ''): string[] {
  return Object.entries(value).flatMap(([key, inner]) => {
    const name = `${prefix}${key}`;
    return inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? [name, ...settingNames(inner, `${name}.`)] : [name];
  });
}
