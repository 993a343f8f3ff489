// cellctl init: create a workspace.
import { defineCommand, names, oneOf, tcpPort, text } from '../define.js';

export const init = defineCommand({
  command: 'init',
  summary: 'create a workspace (settings, control plane, secrets)',
  description: 'Create a workspace: cellctl.json, secrets/ and the control plane (control.db, or PostgreSQL with --control). Running it again changes nothing.',
  flags: {
    routerPort: tcpPort('--router-port <port>', 'router port of a new workspace (default 8000; its admin API uses port + 1)'),
    template: names('template', text('-t, --template <name>', 'placement template: new customers go only to cells of it (default: the first cell created)')),
    control: text(
      '--control <url>',
      'keep the control plane in PostgreSQL (postgres://user:password@host:5432/db; default: $CELLCTL_CONTROL_URL, else control.db)',
    ),
    runtime: oneOf(
      '--runtime <runtime>',
      'who runs the processes: local (the supervisor, default), docker (one Docker Engine, DOCKER_HOST) or swarm (a Docker Swarm manager at DOCKER_HOST; needs --control)',
      ['local', 'docker', 'swarm'],
    ),
    templatePath: text('--template-path <dir>', 'a folder of your own templates (the templatePaths setting); --template may name one of them'),
    image: text('--image <image>', 'the image every container runs (runtimes docker and swarm; default cellctl:<version>, made by "cellctl image build")'),
  },
  examples: [
    'cellctl init',
    'cellctl init --template basic',
    'cellctl --home /tmp/demo init --router-port 9000',
    'cellctl init --control postgres://cellctl:secret@db.internal:5432/cellctl',
    'cellctl init --runtime docker --image cellctl:0.1.0',
    'DOCKER_HOST=ssh://manager cellctl init --runtime swarm --control postgres://cellctl:secret@10.0.0.2:5432/cellctl',
    'cellctl init --template-path ./my-templates --template notes',
  ],
  handler: () => import('../handlers/init.js').then((m) => m.run),
});
