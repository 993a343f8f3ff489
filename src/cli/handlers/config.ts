// cellctl config view|get|set: read and change cellctl.json, checked as a read checks it, and
// applied to a running router at once (what it can only apply on a restart is named).
import { publishSettings } from '../../workspace/swarm.js';
import { isAxiosError } from 'axios';
import { RouterAdmin } from '../../router/client.js';
import { failure, usageError } from '../../shared/errors.js';
import { exposureWarning, type Settings } from '../../workspace/settings.js';
import { checkSettings, openWorkspace, readRawSettings, readSettings, updateSettings } from '../../workspace/workspace.js';
import { homeOf } from '../context.js';
import type { InputOf } from '../define.js';
import type { configGet, configSet, configView } from '../commands/config.js';
import { printJson, printLine, say, sayDone, sayWarning } from '../output.js';

/** A value as typed on the command line: JSON when it parses (numbers, true, null, arrays), else text. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function lookup(settings: Settings, key: string): unknown {
  let value: unknown = settings;
  for (const part of key.split('.')) {
    if (value === null || typeof value !== 'object' || !(part in value)) {
      throw usageError(`no setting named "${key}": "cellctl config view" lists them`);
    }
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function setPath(raw: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let target = raw;
  for (const part of parts.slice(0, -1)) {
    const inner = target[part];
    target = (target[part] = inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? inner : {}) as Record<string, unknown>;
  }
  target[parts.at(-1)!] = value;
}

export function view(input: InputOf<typeof configView>): void {
  printJson(readSettings(homeOf(input)));
}

export function get(input: InputOf<typeof configGet>): void {
  const found = lookup(readSettings(homeOf(input)), input.args.name);
  return input.opts.json || typeof found === 'object' ? printJson(found) : printLine(String(found));
}

export async function set(input: InputOf<typeof configSet>): Promise<void> {
  const home = homeOf(input);
  const { name: key, value } = input.args;
  // Refused before anything is written, in the words of `config get`: an unknown name, a bad value.
  lookup(readSettings(home), key);
  const changed = structuredClone(readRawSettings(home));
  setPath(changed, key, parseValue(value));
  const checked = checkSettings(changed);
  if ('problem' in checked) throw usageError(`${key} ${value} is refused (${checked.problem}); cellctl.json is unchanged`);
  if (ROUTER_PORTS.has(key)) await refuseCellPort(home, key, parseValue(value));
  const settings = updateSettings(home, (raw) => setPath(raw, key, parseValue(value)));
  sayDone(`${key} = ${JSON.stringify(lookup(settings, key))}`);
  const warning = exposureWarning(settings);
  if (warning) sayWarning(warning);
  if (settings.runtime === 'swarm') return publishToRouters(home);
  return applyToRouter(home, settings);
}

/** A swarm's routers have no cellctl.json of theirs: they read the settings from the control plane. */
async function publishToRouters(home: string): Promise<void> {
  const ws = await openWorkspace(home);
  await publishSettings(ws.plane, ws.settings).finally(() => ws.plane.close());
  say('the routers read the change from the control plane within 2 s; a port or a loosened auth applies once they restart: cellctl restart router');
}

const ROUTER_PORTS = new Set(['routerPort', 'routerAdminPort']);

/** A router port must not be one a cell of this machine listens on (its own, or its data API's); refused before anything is written. */
async function refuseCellPort(home: string, key: string, port: unknown): Promise<void> {
  if (typeof port !== 'number') return; // the settings' own check names a value that is not a port
  const ws = await openWorkspace(home);
  try {
    if (ws.settings.runtime !== 'local') return; // cells listen at addresses of their own
    const owner = (await ws.plane.listCells()).find((cell) => cell.managed && (cell.port === port || cell.dataPort === port));
    if (owner)
      throw usageError(
        `${key} ${port} is cell ${owner.id}'s ${owner.port === port ? 'port' : "data API's port"}: choose a port no cell uses ("cellctl list" shows theirs)`,
      );
  } finally {
    await ws.plane.close();
  }
}

async function applyToRouter(home: string, settings: Settings): Promise<void> {
  try {
    const answer = await RouterAdmin.forWorkspace(home, settings, 5_000).reloadSettings();
    // Nothing applied now can mean the router's own watch of cellctl.json applied it a moment earlier;
    // what waits for a restart is said alone, never beside "already enforces".
    if (answer.applied.length > 0) say(`the running router applied: ${answer.applied.join(', ')}`);
    if (answer.needsRestart.length > 0) say(`the router applies ${answer.needsRestart.join(', ')} once restarted: cellctl restart router (no cell restarts)`);
    else if (answer.applied.length === 0) say('the running router already enforces these settings');
  } catch (error) {
    if (isAxiosError(error) && error.response === undefined) return say('no router runs: the settings apply when it starts');
    const detail = isAxiosError(error) ? JSON.stringify(error.response?.data) : String(error);
    throw failure(`cellctl.json was changed, but the running router did not take it (${detail}); see "cellctl logs router"`);
  }
}
