// export kubernetes: a workspace (control plane in PostgreSQL) as the objects `kubectl apply -f`
// takes. No cluster runs here: every object is validated against the Kubernetes API's OpenAPI
// schemas (kubernetes-models, independently of the CLI's own check) plus cellctl's checks; a
// re-export after create changes only the new cell's objects; a cell registers itself in the
// control plane when it starts (serve --register-url), as the exported StatefulSets make it; bad
// input gets one line.
import fs from 'node:fs';
import path from 'node:path';
import { type ChildProcess, spawn } from 'node:child_process';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { Secret, Service } from 'kubernetes-models/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CLI, cleanup, cli, cliJson, cliOk, freePort, http, tempDir, track, waitFor } from '../helpers.js';
import { pgAvailable, startPg, type TestPg } from '../pg.js';

const pgCheck = pgAvailable();
let server: TestPg | undefined;
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (pgCheck.ok) server = await startPg();
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGTERM');
  await server?.stop();
  await cleanup();
});

const MODELS: Record<string, new (data: never) => { validate(): void }> = { StatefulSet, Deployment, Service, Secret } as never;

/** Every document of a YAML stream file. */
const documents = (file: string): any[] => parseAllDocuments(fs.readFileSync(file, 'utf8')).map((doc) => doc.toJS());

describe.skipIf(!pgCheck.ok)(`export kubernetes${pgCheck.ok ? '' : ` (skipped: ${pgCheck.reason})`}`, () => {
  let home: string;

  beforeAll(async () => {
    home = path.join(tempDir(), 'ws');
    await cliOk(home, ['init', '--router-port', String(await freePort(2)), '--control', await server!.newDatabase(), '--template', 'ecommerce']);
    for (const cell of ['c1', 'c2']) await cliOk(home, ['create', cell, '--template', 'ecommerce']);
  }, 120_000);

  it('writes StatefulSets, a Deployment and Services that the Kubernetes schemas accept, and the Secrets apart (0600)', async () => {
    const dir = path.join(tempDir(), 'k8s');
    await cliOk(home, ['export', 'kubernetes', '--namespace', 'shop', '--image', 'registry.example.com/cellctl:0.1.0', '--dir', dir]);
    expect(fs.readdirSync(dir).sort()).toEqual(['deployments.yaml', 'secrets.yaml', 'services.yaml', 'statefulsets.yaml']);
    expect(fs.statSync(path.join(dir, 'secrets.yaml')).mode & 0o777).toBe(0o600);
    const all = fs.readdirSync(dir).flatMap((file) => documents(path.join(dir, file)));
    for (const object of all) {
      expect(() => new MODELS[object.kind]!(object as never).validate(), `${object.kind} ${object.metadata.name}`).not.toThrow();
      expect(object.metadata.namespace).toBe('shop');
    }
    const byKind = (kind: string) => all.filter((object) => object.kind === kind).map((object) => object.metadata.name);
    expect(byKind('StatefulSet')).toEqual(['cellctl-c1', 'cellctl-c2']);
    expect(byKind('Deployment')).toEqual(['cellctl-router']);
    expect(byKind('Service')).toEqual(['cellctl-c1', 'cellctl-c2', 'cellctl-router']);
    expect(byKind('Secret')).toEqual(['cellctl-c1', 'cellctl-c2', 'cellctl-router']);

    const c1 = all.find((object) => object.kind === 'StatefulSet' && object.metadata.name === 'cellctl-c1');
    expect(c1.spec.replicas).toBe(1);
    expect(c1.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('1Gi');
    const container = c1.spec.template.spec.containers[0];
    expect(container.image).toBe('registry.example.com/cellctl:0.1.0');
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: 'app' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/health', port: 'app' });
    expect(container.args).toEqual(expect.arrayContaining(['--register-url', 'http://cellctl-c1.shop.svc.cluster.local:8080']));
    // Every Secret a pod mounts is in the file; every Service port is a container's.
    const secrets = new Set(byKind('Secret'));
    for (const workload of all.filter((object) => object.kind === 'StatefulSet' || object.kind === 'Deployment')) {
      for (const volume of workload.spec.template.spec.volumes) if (volume.secret) expect(secrets.has(volume.secret.secretName)).toBe(true);
      const service = all.find((object) => object.kind === 'Service' && object.metadata.name === workload.metadata.name);
      const ports = new Set(workload.spec.template.spec.containers.flatMap((one: any) => one.ports.map((port: any) => port.name)));
      for (const port of service.spec.ports) expect(ports.has(port.targetPort)).toBe(true);
    }
    const routerSecret = all.find((object) => object.kind === 'Secret' && object.metadata.name === 'cellctl-router');
    expect(Object.keys(routerSecret.stringData).sort()).toEqual(['admin-token', 'control-url', 'jwt-key']);
    expect(routerSecret.stringData['control-url']).toMatch(/^postgres:\/\//);
  });

  it('a re-export after create changes only the new cell; -o yaml and --existing-secrets write no secret', async () => {
    const before = path.join(tempDir(), 'before');
    const after = path.join(tempDir(), 'after');
    await cliOk(home, ['export', 'kubernetes', '--dir', before, '--existing-secrets']);
    expect(fs.readdirSync(before).sort()).toEqual(['deployments.yaml', 'services.yaml', 'statefulsets.yaml']);
    await cliOk(home, ['create', 'c3', '--template', 'ecommerce']);
    await cliOk(home, ['export', 'kubernetes', '--dir', after, '--existing-secrets']);
    expect(fs.readFileSync(path.join(after, 'deployments.yaml'), 'utf8')).toBe(fs.readFileSync(path.join(before, 'deployments.yaml'), 'utf8'));
    for (const file of ['statefulsets.yaml', 'services.yaml']) {
      // Every old object's text is kept as it was; the one added is the new cell's.
      const texts = (dir: string) => fs.readFileSync(path.join(dir, file), 'utf8').split('---\n');
      const added = texts(after).filter((text) => !texts(before).includes(text));
      expect(texts(before).every((text) => texts(after).includes(text))).toBe(true);
      expect(added).toHaveLength(1);
      expect(added[0]).toContain('name: cellctl-c3');
    }
    const stream = await cliOk(home, ['export', 'kubernetes', '-o', 'yaml']);
    const kinds = parseAllDocuments(stream.stdout).map((doc) => (doc.toJS() as { kind: string }).kind);
    expect(kinds).not.toContain('Secret');
    expect(kinds.filter((kind) => kind === 'StatefulSet')).toHaveLength(3);
    expect(stream.stderr).toMatch(/the Secrets \(cellctl-c1, cellctl-c2, cellctl-c3, cellctl-router\) are not in this stream/);
    const list = JSON.parse((await cliOk(home, ['export', 'kubernetes', '-o', 'json'])).stdout);
    expect(list).toMatchObject({ apiVersion: 'v1', kind: 'List' });
  });

  it('a cell registers itself when it starts (serve --register-url, as the StatefulSet runs it): the control plane then names its address', async () => {
    const [port, dataPort] = [await freePort(), await freePort()];
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'token'), `${'t'.repeat(32)}\n`, { mode: 0o600 });
    fs.copyFileSync(path.join(home, 'secrets', 'control-url'), path.join(dir, 'control-url'));
    const child = track(
      spawn(
        process.execPath,
        [
          ...[CLI, 'serve', '--template', 'ecommerce', '--data-port', String(dataPort), '--token-file', path.join(dir, 'token')],
          ...[
            '--register-url',
            `http://127.0.0.1:${port}`,
            '--register-data-url',
            `http://127.0.0.1:${dataPort}`,
            '--control-url-file',
            path.join(dir, 'control-url'),
          ],
        ],
        { env: { ...process.env, CELL_ID: 'c2', PORT: String(port), CELL_DB: path.join(dir, 'data.db'), CELL_HOME: dir }, stdio: 'ignore' },
      ),
    );
    children.push(child);
    await waitFor(
      'c2 registered at its new address',
      async () => (await cliJson<{ id: string; url: string }[]>(home, ['list'])).find((cell) => cell.id === 'c2')?.url === `http://127.0.0.1:${port}`,
      60_000,
    );
    expect((await http('GET', `http://127.0.0.1:${port}/health`)).status).toBe(200);
    child.kill('SIGTERM');

    // A cell the control plane does not know is refused, and the process ends.
    const unknown = await cli(
      null,
      [
        'serve',
        '--template',
        'ecommerce',
        '--data-port',
        String(await freePort()),
        '--token-file',
        path.join(dir, 'token'),
        '--register-url',
        'http://127.0.0.1:1',
        '--register-data-url',
        'http://127.0.0.1:2',
        '--control-url-file',
        path.join(dir, 'control-url'),
      ],
      {
        CELL_ID: 'nobody',
        PORT: String(await freePort()),
        CELL_DB: path.join(dir, 'nobody.db'),
        CELL_HOME: dir,
      },
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/cell nobody is not in the control plane at .*: create it there first/);
  });

  it('bad input: control.db, a name too long for a StatefulSet, a folder that cannot be written, a namespace Kubernetes refuses: one line each', async () => {
    const local = path.join(tempDir(), 'local');
    await cliOk(local, ['init', '--router-port', String(await freePort(2))]);
    const noPg = await cli(local, ['export', 'kubernetes', '--dir', path.join(tempDir(), 'x')]);
    expect(noPg.code).toBe(2);
    expect(noPg.stderr).toMatch(/control\.db in this folder, which no pod can read: move it to PostgreSQL first/);

    const long = `c${'x'.repeat(44)}`;
    await cliOk(home, ['create', long, '--template', 'ecommerce']);
    try {
      const tooLong = await cli(home, ['export', 'kubernetes', '--dir', path.join(tempDir(), 'y')]);
      expect(tooLong.code).toBe(2);
      expect(tooLong.stderr).toMatch(new RegExp(`cell ${long}'s StatefulSet name cellctl-${long} has 53 characters; Kubernetes allows 52`));
    } finally {
      await cliOk(home, ['delete', long, '--yes']);
    }
    const file = path.join(tempDir(), 'a-file');
    fs.writeFileSync(file, '');
    const unwritable = await cli(home, ['export', 'kubernetes', '--dir', path.join(file, 'sub')]);
    expect(unwritable.code).toBe(1);
    expect(unwritable.stderr.trim()).toMatch(/^error: cannot write into .*sub \((ENOTDIR|EEXIST)\): give a folder you can write \(--dir\)$/);
    const badNamespace = await cli(home, ['export', 'kubernetes', '--namespace', 'Shop_EU']);
    expect(badNamespace.code).toBe(2);
    expect(badNamespace.stderr).toMatch(/--namespace Shop_EU is not a Kubernetes namespace name/);
    for (const result of [noPg, unwritable, badNamespace]) expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
