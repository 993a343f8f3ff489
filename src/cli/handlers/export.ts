// cellctl export compose: writes the compose file of a docker workspace (workspace/compose.ts).
import fs from 'node:fs';
import { stringify } from 'yaml';
import { DockerEngine } from '../../engine/docker.js';
import { failure } from '../../shared/errors.js';
import { composeDocument } from '../../workspace/compose.js';
import { withWorkspace } from '../context.js';
import type { InputOf } from '../define.js';
import type { exportCompose } from '../commands/export.js';
import { printLine, sayDone } from '../output.js';

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
