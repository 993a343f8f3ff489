// Carries out an image build plan (plan.ts) against the engine the docker client talks to: checks
// the engine answers and has the base (pulling it if not), builds the Dockerfile with the classic
// builder, measures the result against its base, and pushes it when asked.
import { failure } from '../shared/errors.js';
import { prepareContext } from './context.js';
import { checkEngine, engineName, type ImageInfo, inspectImage, lastLines, runDocker } from '../engine/client.js';
import { dockerBuildArgs, type ImageBuildPlan, type ImageSizes, imageSizes } from './plan.js';

export interface ImageBuildResult extends ImageSizes {
  tag: string;
  id: string;
  base: string;
  deps: ImageBuildPlan['deps'];
  /** The reference pushed, or null. */
  pushed: string | null;
}

export interface BuildReporting {
  /** Where docker's own output goes as it comes (a terminal); none: kept for a failure message only. */
  echo?: NodeJS.WritableStream;
  /** A short line on what happens next. */
  note(text: string): void;
}

/** Lines of docker's output a failure message ends with. */
const FAILURE_LINES = 12;

const tail = (output: string): string =>
  lastLines(output, FAILURE_LINES)
    .map((line) => `  ${line}`)
    .join('\n');

async function ensureBase(base: string, reporting: BuildReporting): Promise<ImageInfo> {
  const present = await inspectImage(base);
  if (present) return present;
  reporting.note(`base image ${base} is not in ${engineName()}: pulling it`);
  const pulled = await runDocker(['pull', base], { echo: reporting.echo });
  const image = pulled.code === 0 ? await inspectImage(base) : null;
  if (image) return image;
  const why = lastLines(pulled.stderr || pulled.stdout, 1)[0] ?? `docker pull exited ${pulled.code}`;
  throw failure(
    `base image ${base} is not in ${engineName()} and could not be pulled (${why}): pull it there, or make one with docker import or docker load, and name it with --base`,
    'E_IMAGE_BASE_MISSING',
  );
}

async function dockerBuild(plan: ImageBuildPlan, reporting: BuildReporting): Promise<void> {
  const context = prepareContext(plan);
  try {
    reporting.note(
      `building ${plan.tag} from ${plan.base} (dependencies: ${plan.deps === 'install' ? 'npm ci in the build' : 'node_modules sent in the context'})`,
    );
    const built = await runDocker(dockerBuildArgs(plan, context.dir), { echo: reporting.echo });
    if (built.code !== 0)
      throw failure(`docker build of ${plan.tag} failed (exit ${built.code}); its last lines:\n${tail(built.stdout + built.stderr)}`, 'E_IMAGE_BUILD');
  } finally {
    context.remove();
  }
}

async function push(tag: string, target: string, reporting: BuildReporting): Promise<void> {
  const tagged = await runDocker(['tag', tag, target], { timeoutMs: 30_000 });
  if (tagged.code !== 0) throw failure(`docker tag ${tag} ${target} failed: ${lastLines(tagged.stderr, 1)[0] ?? `exit ${tagged.code}`}`, 'E_IMAGE_BUILD');
  reporting.note(`pushing ${target}`);
  const pushed = await runDocker(['push', target], { echo: reporting.echo });
  if (pushed.code !== 0)
    throw failure(`docker push ${target} failed (exit ${pushed.code}); its last lines:\n${tail(pushed.stdout + pushed.stderr)}`, 'E_IMAGE_BUILD');
}

export async function buildImage(plan: ImageBuildPlan, reporting: BuildReporting): Promise<ImageBuildResult> {
  await checkEngine();
  const base = await ensureBase(plan.base, reporting);
  await dockerBuild(plan, reporting);
  const image = await inspectImage(plan.tag);
  if (!image) throw failure(`docker build said it built ${plan.tag}, but ${engineName()} has no such image`, 'E_IMAGE_BUILD');
  if (plan.pushAs !== null) await push(plan.tag, plan.pushAs, reporting);
  return { tag: plan.tag, id: image.id, base: plan.base, deps: plan.deps, pushed: plan.pushAs, ...imageSizes(image.sizeBytes, base.sizeBytes) };
}
