// cellctl router serve: one more router in front of the same cells.
import { defineCommand, defineGroup, tcpPort, text } from '../define.js';

export const routerServe = defineCommand({
  command: 'serve',
  summary: "run a router in the foreground on the workspace's control plane; it registers itself there",
  description:
    'Run a router in the foreground, in front of the same cells as the supervised one, reading the same control plane (control.db or PostgreSQL). It registers itself (id <host>:<port>, admin URL) so moves fence it and status lists it; SIGTERM or Ctrl-C stops it and removes the registration.',
  flags: {
    port: tcpPort('--port <port>', 'public port', { required: true }),
    adminPort: tcpPort('--admin-port <port>', 'admin API port (fences, stats; bearer admin token)', { required: true }),
    host: text('--host <host>', 'address the public port binds (default: the routerHost setting)'),
    adminHost: text(
      '--admin-host <host>',
      'address the admin API binds (default: the routerAdminHost setting, 127.0.0.1; movers on other hosts need it reachable)',
    ),
    advertise: text('--advertise <host>', "host name or address other hosts reach this router at (default: the bind address, or this host's for 0.0.0.0)"),
    fromSecrets: text(
      '--from-secrets <dir>',
      "run with no workspace folder: the admin token, JWT key and control-plane URL from files in DIR (a swarm's /run/secrets), the settings from the control plane",
    ),
  },
  examples: [
    'cellctl router serve --port 8010 --admin-port 8011',
    'cellctl router serve --port 8010 --admin-port 8011 --host 0.0.0.0 --admin-host 0.0.0.0 --advertise 10.0.0.5',
    'cellctl router serve --port 8010 --admin-port 8011 --host 0.0.0.0 --admin-host 0.0.0.0 --from-secrets /run/secrets',
  ],
  handler: () => import('../handlers/router.js').then((m) => m.serve),
});

export const router = defineGroup({
  command: 'router',
  summary: 'run one more router (any host that reaches the control plane and the cells)',
  subcommands: [routerServe],
  examples: ['cellctl router serve --port 8010 --admin-port 8011'],
});
