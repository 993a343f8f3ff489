// cellctl up: the newcomer's one command.
import { count, defineCommand, names, on, oneOf, secondsAsMs, tcpPort, text } from '../define.js';

export const up = defineCommand({
  command: 'up',
  summary: 'init, create cells, start everything and add sample customers',
  description:
    "The newcomer's one command: init the workspace if needed, create cell-1..cell-N, start the router and cells, create sample customers through the router, and print the status.",
  flags: {
    cells: count(100)('--cells <n>', 'number of cells', { default: '3' }),
    template: names('template', text('-t, --template <name>', "template for new cells (default: the workspace's placement template, else ecommerce)")),
    customers: count(100_000)('--customers <n>', 'sample customers to create through the router', { default: '20' }),
    routerPort: tcpPort('--router-port <port>', 'router port for a new workspace (default 8000)'),
    control: text('--control <url>', 'a new workspace keeps its control plane in PostgreSQL (as init; default: $CELLCTL_CONTROL_URL, else control.db)'),
    runtime: oneOf(
      '--runtime <runtime>',
      'for a new workspace (as init): local (the supervisor, default), docker (one Docker Engine) or swarm (a Docker Swarm; needs --control)',
      ['local', 'docker', 'swarm'],
    ),
    image: text('--image <image>', 'for a new docker workspace: the image its containers run (default cellctl:<version>)'),
    timeout: secondsAsMs('--timeout <seconds>', 'how long to wait for processes to become healthy', { default: '60' }),
    json: on('--json', 'print the final status as JSON'),
  },
  examples: ['cellctl up', 'cellctl up --cells 5 --template basic --customers 200', 'cellctl up --runtime docker --image cellctl:0.1.0'],
  handler: () => import('../handlers/up.js').then((m) => m.run),
});
