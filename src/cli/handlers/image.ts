// cellctl image build: plan from the flags and cellctl's version, build through the docker client
// (docker's output streamed to stderr unless a machine format is asked for), then report the sizes.
import { buildImage, type ImageBuildResult } from '../../image/build.js';
import { packageVersion } from '../../image/context.js';
import { formatBytes, planImageBuild } from '../../image/plan.js';
import type { imageBuild } from '../commands/image.js';
import type { InputOf } from '../define.js';
import { isMachineFormat, printData } from '../formats.js';
import { printLine, say, sayDone } from '../output.js';

export async function build(input: InputOf<typeof imageBuild>): Promise<void> {
  const { tag, base, deps, push, output } = input.opts;
  const plan = planImageBuild({ tag, base, deps, push }, packageVersion());
  const quiet = isMachineFormat(output);
  const result = await buildImage(plan, { echo: quiet ? undefined : process.stderr, note: quiet ? () => {} : say });
  if (!printData(output, result)) render(result);
}

function render(result: ImageBuildResult): void {
  sayDone(`built ${result.tag}`);
  printLine(`image   ${result.tag} (${result.id})`);
  printLine(
    `size    ${formatBytes(result.sizeBytes)}, of which ${formatBytes(result.addedBytes)} over its base ${result.base} (${formatBytes(result.baseSizeBytes)})`,
  );
  if (result.pushed) printLine(`pushed  ${result.pushed}`);
}
