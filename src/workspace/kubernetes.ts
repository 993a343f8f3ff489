// `export kubernetes`: a workspace as the objects a user applies with `kubectl apply -f`. Per cell a
// StatefulSet of one replica (its data.db on a volume claim, probes on its health path, resource
// requests) and a Service; the routers a Deployment and a Service; the secrets (admin token, JWT
// key, control-plane URL, each cell's data API token) as Secrets in a file of their own, or named
// as existing ones. Cells and routers register themselves in the control plane when they start (a
// cell: `serve --register-url` with its Service's name; a router: its registration, at its pod's
// address), so nothing is run by hand beside the files. Settings reach the routers through the
// control plane, as on swarm (no ConfigMap: one settings path). Names are stable and keys sorted,
// so a re-export after `create` or `delete` changes only what changed.
import type { CellRecord } from '../control/plane.js';
import { usageError } from '../shared/errors.js';
import type { Settings } from './settings.js';
import { cellContainer, CONTAINER_CELL_PORT, CONTAINER_DATA_PORT, DATA_DIR, LABEL_CELL, LABEL_ROLE, LABEL_WORKSPACE, ROUTER_NAME } from './containers.js';
import { ROUTER_SECRETS } from './swarm.js';

/** Kubernetes makes a StatefulSet's pods `<name>-<ordinal>` and labels them with it: 63 characters less the ordinal and the controller hash. */
export const STATEFULSET_NAME_MAX = 52;
/** Where every container finds its secrets. */
const SECRETS_DIR = '/run/secrets/cellctl';
/** The image's user (Dockerfile): the pods run as it, and the volume is made writable to it. */
const IMAGE_UID = 10001;

export interface KubernetesOptions {
  namespace: string;
  image: string;
  routers: number;
  /** Resource requests of each cell and router, and each cell's claim. */
  cpu: string;
  memory: string;
  storage: string;
  /** The Secrets exist already (made by the user): referenced by name, not exported. */
  existingSecrets: boolean;
}

/** A Kubernetes object as written: apiVersion, kind, metadata, the rest. */
export type KubeObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } } & Record<
  string,
  unknown
>;

export interface KubernetesExport {
  /** Every object but the Secrets, in a stable order. */
  objects: KubeObject[];
  /** The Secrets (empty with existingSecrets). */
  secrets: KubeObject[];
  /** The names of the Secrets the objects reference. */
  secretNames: string[];
}

/** The secret values the export needs: the workspace's own files. */
export interface SecretValues {
  adminToken: string;
  jwtKey: string;
  controlUrl: string;
  cellToken(cellId: string): string;
}

const cellName = (cellId: string) => `cellctl-${cellId}`;
const ROUTER_OBJECT = `cellctl-${ROUTER_NAME}`;

/** What every object of an export shares: its namespace, its labels, the pods' image and requests. */
interface Shared {
  meta(name: string, labels: Record<string, string>): KubeObject['metadata'];
  podLabels: Record<string, string>;
  image: string;
  resources: { requests: { cpu: string; memory: string } };
  namespace: string;
}

/** A cell's StatefulSet: `serve` with its data API, registering its Service's address at start. */
function cellStatefulSet(shared: Shared, cell: CellRecord, storage: string): KubeObject {
  const { meta, resources, namespace, podLabels } = shared;
  const name = cellName(cell.id);
  const labels = { [LABEL_ROLE]: 'cell', [LABEL_CELL]: cell.id };
  const host = `${name}.${namespace}.svc.cluster.local`;
  const container = cellContainer(cell, CONTAINER_CELL_PORT, CONTAINER_DATA_PORT, `${SECRETS_DIR}/token`);
  const probe = (periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path: cell.healthPath, port: 'app' },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 3,
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(name, labels),
    spec: {
      serviceName: name,
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels: { ...podLabels, ...labels } },
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: IMAGE_UID, runAsGroup: IMAGE_UID, fsGroup: IMAGE_UID },
          containers: [
            {
              name: 'cell',
              image: shared.image,
              args: [
                ...container.command,
                ...['--control-url-file', `${SECRETS_DIR}/control-url`],
                ...['--register-url', `http://${host}:${CONTAINER_CELL_PORT}`, '--register-data-url', `http://${host}:${CONTAINER_DATA_PORT}`],
              ],
              env: Object.entries(container.env).map(([key, value]) => ({ name: key, value })),
              ports: [
                { name: 'app', containerPort: CONTAINER_CELL_PORT },
                { name: 'data', containerPort: CONTAINER_DATA_PORT },
              ],
              readinessProbe: probe(2, 1),
              livenessProbe: probe(10, 3),
              resources,
              volumeMounts: [
                { name: 'data', mountPath: DATA_DIR },
                { name: 'secrets', mountPath: SECRETS_DIR, readOnly: true },
              ],
            },
          ],
          volumes: [{ name: 'secrets', secret: { secretName: name } }],
        },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } } } }],
    },
  };
}

/** The routers' Deployment: `router serve --from-secrets`, each registering itself at its pod's address. */
function routerDeployment(shared: Shared, settings: Settings, replicas: number): KubeObject {
  const { meta, resources, podLabels } = shared;
  const routerLabels = { [LABEL_ROLE]: 'router' };
  const { routerPort, routerAdminPort } = settings;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(ROUTER_OBJECT, routerLabels),
    spec: {
      replicas,
      selector: { matchLabels: routerLabels },
      template: {
        metadata: { labels: { ...podLabels, ...routerLabels } },
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: IMAGE_UID, runAsGroup: IMAGE_UID },
          containers: [
            {
              name: 'router',
              image: shared.image,
              // Each router registers itself at its pod's address (movers fence it there).
              args: [
                ...['router', 'serve', '--port', String(routerPort), '--admin-port', String(routerAdminPort)],
                ...['--host', '0.0.0.0', '--admin-host', '0.0.0.0', '--advertise', '$(POD_IP)', '--from-secrets', SECRETS_DIR],
              ],
              env: [
                { name: 'CELLCTL_ROLE', value: 'router' },
                { name: 'CELLCTL_ROUTER_PORT', value: String(routerPort) },
                { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              ],
              ports: [
                { name: 'public', containerPort: routerPort },
                { name: 'admin', containerPort: routerAdminPort },
              ],
              readinessProbe: { httpGet: { path: '/health', port: 'public' }, periodSeconds: 2, timeoutSeconds: 3 },
              livenessProbe: { httpGet: { path: '/health', port: 'public' }, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
              resources,
              volumeMounts: [{ name: 'secrets', mountPath: SECRETS_DIR, readOnly: true }],
            },
          ],
          volumes: [{ name: 'secrets', secret: { secretName: ROUTER_OBJECT } }],
        },
      },
    },
  };
}

export function kubernetesExport(settings: Settings, cells: readonly CellRecord[], options: KubernetesOptions, secrets: SecretValues): KubernetesExport {
  const managed = [...cells].filter((cell) => cell.managed).sort((a, b) => a.id.localeCompare(b.id));
  const tooLong = managed.find((cell) => cellName(cell.id).length > STATEFULSET_NAME_MAX);
  if (tooLong) {
    throw usageError(
      `cell ${tooLong.id}'s StatefulSet name ${cellName(tooLong.id)} has ${cellName(tooLong.id).length} characters; Kubernetes allows ${STATEFULSET_NAME_MAX} (its pods add an ordinal and a hash to 63): a cell name of at most ${STATEFULSET_NAME_MAX - 'cellctl-'.length} characters exports`,
    );
  }
  const { namespace } = options;
  const workspace: Record<string, string> = settings.workspaceId ? { [LABEL_WORKSPACE]: settings.workspaceId } : {};
  const meta = (name: string, labels: Record<string, string>) => ({
    name,
    namespace,
    labels: { 'app.kubernetes.io/name': 'cellctl', ...workspace, ...labels },
  });
  const resources = { requests: { cpu: options.cpu, memory: options.memory } };
  const shared: Shared = { meta, podLabels: workspace, image: options.image, resources, namespace };
  const objects: KubeObject[] = [];
  const secretObjects: KubeObject[] = [];
  const secret = (name: string, data: Record<string, string>): void => {
    secretObjects.push({ apiVersion: 'v1', kind: 'Secret', metadata: meta(name, {}), type: 'Opaque', stringData: data });
  };

  for (const cell of managed) {
    const name = cellName(cell.id);
    const labels = { [LABEL_ROLE]: 'cell', [LABEL_CELL]: cell.id };
    objects.push(cellStatefulSet(shared, cell, options.storage));
    objects.push(service(meta(name, labels), labels, { app: CONTAINER_CELL_PORT, data: CONTAINER_DATA_PORT }));
    secret(name, { token: secrets.cellToken(cell.id), 'control-url': secrets.controlUrl });
  }

  const routerLabels = { [LABEL_ROLE]: 'router' };
  const { routerPort, routerAdminPort } = settings;
  objects.push(routerDeployment(shared, settings, options.routers));
  objects.push(service(meta(ROUTER_OBJECT, routerLabels), routerLabels, { public: routerPort, admin: routerAdminPort }));
  const routerSecret: Record<(typeof ROUTER_SECRETS)[number], string> = {
    'admin-token': secrets.adminToken,
    'jwt-key': secrets.jwtKey,
    'control-url': secrets.controlUrl,
  };
  secret(ROUTER_OBJECT, routerSecret);

  return {
    objects,
    secrets: options.existingSecrets ? [] : secretObjects,
    secretNames: secretObjects.map((object) => object.metadata.name).sort(),
  };
}

function service(metadata: KubeObject['metadata'], selector: Record<string, string>, ports: Record<string, number>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata,
    spec: { selector, ports: Object.entries(ports).map(([name, port]) => ({ name, port, targetPort: name })) },
  };
}

/**
 * cellctl's own checks beside the schemas: every cell has a claim and both probes, every Secret a
 * pod mounts is exported or declared existing, and every port a Service names is a container's.
 */
export function checkExport(exported: KubernetesExport, existingSecrets: boolean): string[] {
  const problems: string[] = [];
  const known = new Set(existingSecrets ? exported.secretNames : exported.secrets.map((object) => object.metadata.name));
  const workloads = exported.objects.filter((object) => object.kind === 'StatefulSet' || object.kind === 'Deployment');
  for (const workload of workloads) {
    const spec = workload.spec as { template: { spec: PodSpec }; volumeClaimTemplates?: unknown[] };
    const pod = spec.template.spec;
    const name = `${workload.kind} ${workload.metadata.name}`;
    if (workload.kind === 'StatefulSet' && !spec.volumeClaimTemplates?.length) problems.push(`${name} has no volume claim`);
    for (const container of pod.containers) {
      if (!container.livenessProbe || !container.readinessProbe) problems.push(`${name} lacks a probe`);
    }
    for (const volume of pod.volumes ?? []) {
      if (volume.secret && !known.has(volume.secret.secretName))
        problems.push(`${name} mounts Secret ${volume.secret.secretName}, which is neither exported nor declared existing`);
    }
    const service = exported.objects.find((object) => object.kind === 'Service' && object.metadata.name === workload.metadata.name);
    const containerPorts = new Set(pod.containers.flatMap((container) => container.ports.map((port) => port.name)));
    for (const port of (service?.spec as { ports: { targetPort: string }[] } | undefined)?.ports ?? []) {
      if (!containerPorts.has(port.targetPort))
        problems.push(`Service ${workload.metadata.name} targets port ${port.targetPort}, which no container of it has`);
    }
    if (!service) problems.push(`${name} has no Service`);
  }
  return problems;
}

interface PodSpec {
  containers: { livenessProbe?: unknown; readinessProbe?: unknown; ports: { name: string }[] }[];
  volumes?: { secret?: { secretName: string } }[];
}
