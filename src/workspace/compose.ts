// `export compose`: a docker workspace as a compose file, in the beginner example's shape (the router
// on its port, a service and a named volume per cell). Each service is exactly the container the
// docker runtime makes (containers.ts cellSpec/routerSpec): the same image, command, user, labels,
// address on the workspace's network and volume, so the file runs the same system as `cellctl start`
// (with its control plane: control.db in the bind-mounted workspace folder, or the PostgreSQL URL in
// its secrets), and `status`, moves and `logs` see its containers by their labels. The network and
// the volumes are the workspace's own, declared external: `docker-compose down` never removes data.
// Compose file format 3.8, which Debian's docker-compose 1.29 and `docker compose` both read.
import type { CellRecord } from '../control/plane.js';
import type { ContainerSpec } from '../engine/docker.js';
import { usageError } from '../shared/errors.js';
import { DockerRuntime } from './containers.js';
import type { Settings } from './settings.js';

/** A service of the compose file, from a container spec. */
function service(spec: ContainerSpec): Record<string, unknown> {
  return {
    image: spec.image,
    hostname: spec.hostname,
    command: spec.command,
    environment: spec.env,
    user: spec.user,
    volumes: spec.mounts,
    ...(spec.publish.length > 0 ? { ports: spec.publish } : {}),
    networks: { [spec.network]: { ipv4_address: spec.ip } },
    restart: 'unless-stopped',
    labels: spec.labels,
  };
}

/** The compose document for the docker workspace at `home` (its keys in a stable order, for diffs). */
export function composeDocument(home: string, settings: Settings, cells: readonly CellRecord[]): Record<string, unknown> {
  if (settings.runtime !== 'docker') {
    throw usageError(
      `export compose writes a docker workspace's containers; this one's runtime is ${settings.runtime}: make one with "cellctl init --runtime docker", create its cells, then export`,
    );
  }
  const runtime = new DockerRuntime(home, settings);
  const managed = [...cells].filter((cell) => cell.managed).sort((a, b) => a.id.localeCompare(b.id));
  const services: Record<string, unknown> = { router: { ...service(runtime.routerSpec()), depends_on: managed.map((cell) => cell.id) } };
  for (const cell of managed) services[cell.id] = service(runtime.cellSpec(cell));
  return {
    version: '3.8',
    services,
    volumes: Object.fromEntries(managed.map((cell) => [runtime.volumeName(cell.id), { external: true, name: runtime.volumeName(cell.id) }])),
    networks: { [runtime.docker.network]: { external: true, name: runtime.docker.network } },
  };
}
