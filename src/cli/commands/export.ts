// cellctl export compose: the workspace as files a user applies.
import { count, defineCommand, defineGroup, on, oneOf, text } from '../define.js';

export const exportCompose = defineCommand({
  command: 'compose',
  summary: 'a compose file for a docker workspace: the router and a service and named volume per cell, exactly the containers cellctl start makes',
  flags: { file: text('-f, --file <file>', 'write it to FILE (mode 0644) instead of stdout') },
  examples: [
    'cellctl export compose > docker-compose.yml && docker-compose up -d',
    'cellctl export compose --file compose.yml && docker compose -f compose.yml up -d',
  ],
  handler: () => import('../handlers/export.js').then((m) => m.compose),
});

export const exportKubernetes = defineCommand({
  command: 'kubernetes',
  summary: 'the workspace as Kubernetes objects: per cell a StatefulSet and a Service, the routers a Deployment and a Service, the secrets apart',
  flags: {
    namespace: text('--namespace <ns>', 'the namespace of every object', { default: 'default' }),
    image: text('--image <image>', "the image every pod runs (default: the workspace's, else cellctl:<version>)"),
    dir: text('--dir <dir>', 'write one file per kind (statefulsets, deployments, services, secrets) into DIR', { default: 'kubernetes' }),
    output: oneOf('-o, --output <format>', 'write the objects (not the Secrets) to stdout instead: yaml or json', ['yaml', 'json']),
    existingSecrets: on('--existing-secrets', 'the Secrets exist already: reference them by name and write none'),
    routers: count(100)('--routers <n>', 'router replicas', { default: '2' }),
    cpu: text('--cpu <quantity>', 'CPU request of each pod', { default: '100m' }),
    memory: text('--memory <quantity>', 'memory request of each pod', { default: '128Mi' }),
    storage: text('--storage <quantity>', "each cell's volume claim", { default: '1Gi' }),
  },
  examples: [
    'cellctl export kubernetes --namespace shop --image registry.example.com/cellctl:0.1.0 && kubectl apply -f kubernetes/',
    'cellctl export kubernetes --existing-secrets -o yaml | kubectl apply -f -',
  ],
  handler: () => import('../handlers/export.js').then((m) => m.kubernetes),
});

export const exportFiles = defineGroup({
  command: 'export',
  summary: 'the workspace as files a user applies (compose, Kubernetes)',
  subcommands: [exportCompose, exportKubernetes],
  examples: ['cellctl export compose > docker-compose.yml', 'cellctl export kubernetes --namespace shop'],
});
