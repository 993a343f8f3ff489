// cellctl export compose | kubernetes: a docker workspace's compose file (workspace/compose.ts), or a
// workspace's Kubernetes objects (workspace/kubernetes.ts, checked against the API's schemas first).
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { DockerEngine } from '../../engine/docker.js';
import { isPostgresUrl } from '../../control/open.js';
import { failure, usageError } from '../../shared/errors.js';
import { loadCellTemplate } from '../../workspace/cells.js';
import { checkContainerTemplate } from '../../workspace/containers.js';
import { checkExport, kubernetesExport } from '../../workspace/kubernetes.js';
import { controlLocation, readAdminToken, readCellToken, readJwtKey } from '../../workspace/secrets.js';
import { publishSettings } from '../../workspace/swarm.js';
import { cellctlVersion } from '../runtime.js';
import { composeDocument } from '../../workspace/compose.js';
import { withWorkspace } from '../context.js';
import type { InputOf } from '../define.js';
import type { exportCompose, exportKubernetes } from '../commands/export.js';
import { printLine, say, sayDone } from '../output.js';

export async function compose(input: InputOf<typeof exportCompose>): Promise<void> {
  await withWorkspace(input, async (ws) => {
    const image = ws.settings.engine?.image;
    if (ws.settings.runtime === 'docker' && image && !(await new DockerEngine().imageExists(image))) {
      throw failure(
        `image ${image} is not on ${new DockerEngine().name}: build it with "cellctl image build --tag ${image}" (or docker load it), then export again`,
      );
    }
    const text = stringify(composeDocument(ws.home, ws.settings, await ws.plane.listCells()), { lineWidth: 0 });
    if (input.opts.file === undefined) return printLine(text.trimEnd());
    try {
      fs.writeFileSync(input.opts.file, text, { mode: 0o644 });
    } catch (error) {
      throw failure(`cannot write ${input.opts.file} (${(error as NodeJS.ErrnoException).code}): give a file in a folder you can write`);
    }
    sayDone(
      `compose file written to ${input.opts.file}: "docker-compose -f ${input.opts.file} up -d" (or "docker compose -f ${input.opts.file} up -d") runs the workspace`,
    );
  });
}

const KINDS = [
  ['StatefulSet', 'statefulsets.yaml'],
  ['Deployment', 'deployments.yaml'],
  ['Service', 'services.yaml'],
] as const;

/** A YAML stream of objects, keys sorted (stable across exports). */
const yamlStream = (objects: readonly object[]): string => objects.map((object) => stringify(object, { sortMapEntries: true, lineWidth: 0 })).join('---\n');

export async function kubernetes(input: InputOf<typeof exportKubernetes>): Promise<void> {
  const { namespace, dir, output, existingSecrets, routers, cpu, memory, storage } = input.opts;
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace))
    throw usageError(`--namespace ${namespace} is not a Kubernetes namespace name: lower-case letters, digits and "-", at most 63`);
  await withWorkspace(input, async (ws) => {
    const control = controlLocation(ws.home);
    if (!isPostgresUrl(control)) {
      throw usageError(
        'the control plane is control.db in this folder, which no pod can read: move it to PostgreSQL first ("cellctl stop && cellctl control migrate-to postgres://…"), then export',
      );
    }
    const cells = await ws.plane.listCells();
    for (const cell of cells.filter((candidate) => candidate.managed)) checkContainerTemplate(loadCellTemplate(ws, cell.template));
    const image = input.opts.image ?? ws.settings.engine?.image ?? `cellctl:${cellctlVersion()}`;
    const exported = kubernetesExport(
      ws.settings,
      cells,
      { namespace, image, routers, cpu, memory, storage, existingSecrets },
      {
        adminToken: readAdminToken(ws.home),
        jwtKey: new TextDecoder().decode(readJwtKey(ws.home)),
        controlUrl: control,
        cellToken: (cellId) => readCellToken(ws.home, cellId),
      },
    );
    const { schemaProblems } = await import('../../workspace/kubernetes-schema.js');
    const problems = [...schemaProblems([...exported.objects, ...exported.secrets]), ...checkExport(exported, existingSecrets)];
    if (problems.length > 0) throw failure(`the export would not apply (a bug in cellctl; please report it): ${problems.join('; ')}`);
    // The routers read the settings from the control plane, as on swarm.
    await publishSettings(ws.plane, ws.settings);
    if (output === 'json') return printLine(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: exported.objects }, null, 2));
    if (output === 'yaml') {
      printLine(yamlStream(exported.objects).trimEnd());
      if (!existingSecrets)
        say(
          `the Secrets (${exported.secretNames.join(', ')}) are not in this stream: write them with --dir, or make them yourself and pass --existing-secrets`,
        );
      return;
    }
    const files: [string, string, number][] = KINDS.map(([kind, file]) => [file, yamlStream(exported.objects.filter((object) => object.kind === kind)), 0o644]);
    if (!existingSecrets) files.push(['secrets.yaml', yamlStream(exported.secrets), 0o600]);
    try {
      fs.mkdirSync(dir, { recursive: true });
      for (const [file, text, mode] of files) {
        fs.writeFileSync(path.join(dir, file), text, { mode });
        fs.chmodSync(path.join(dir, file), mode);
      }
    } catch (error) {
      throw failure(`cannot write into ${dir} (${(error as NodeJS.ErrnoException).code}): give a folder you can write (--dir)`);
    }
    sayDone(
      `${exported.objects.length + exported.secrets.length} objects written to ${dir}: ${files.map(([file]) => file).join(', ')}${existingSecrets ? ` (Secrets referenced: ${exported.secretNames.join(', ')})` : ' (secrets.yaml is 0600: keep it out of git)'}`,
    );
    say(`apply them with: kubectl apply -f ${dir}/`);
  });
}
