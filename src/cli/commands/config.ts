// cellctl config view|get|set: the settings in cellctl.json.
import { defineCommand, defineGroup, names, on, required } from '../define.js';

export const configView = defineCommand({
  command: 'view',
  summary: 'print every setting (JSON)',
  isDefault: true,
  flags: { json: on('--json', 'print JSON (view always does)') },
  examples: ['cellctl config view', 'cellctl config'],
  handler: () => import('../handlers/config.js').then((m) => m.view),
});

export const configGet = defineCommand({
  command: 'get',
  summary: 'print one setting',
  args: { name: names('setting', required('setting name, dotted for nested ones (limits.maxBodyBytes)')) },
  flags: { json: on('--json', 'print JSON') },
  examples: ['cellctl config get auth', 'cellctl config get limits --json'],
  handler: () => import('../handlers/config.js').then((m) => m.get),
});

export const configSet = defineCommand({
  command: 'set',
  summary: 'change one setting; the running router applies it',
  args: {
    name: names('setting', required('setting name, dotted for nested ones (limits.maxBodyBytes)')),
    value: required('new value: JSON (200, true, null) or text (jwt)'),
  },
  examples: ['cellctl config set auth jwt', 'cellctl config set limits.rateLimit.requests 50', 'cellctl config set placementTemplate basic'],
  handler: () => import('../handlers/config.js').then((m) => m.set),
});

export const config = defineGroup({
  command: 'config',
  summary: 'view, get or set a setting in cellctl.json; the running router applies it',
  subcommands: [configView, configGet, configSet],
  examples: [
    'cellctl config view',
    'cellctl config get auth',
    'cellctl config set auth jwt',
    'cellctl config set limits.rateLimit.requests 50',
    'cellctl config set placementTemplate basic',
  ],
});
