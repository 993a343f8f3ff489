// cellctl image build: cellctl's own image, for running cells and routers on a container engine.
import { checkImageRef, checkRegistry, DEFAULT_BASE, DEPS_MODES } from '../../image/plan.js';
import { defineCommand, defineGroup, type Flag, longOf, oneOf, output } from '../define.js';

/** An image reference flag (--tag, --base): checked before docker is asked anything. */
const imageRef = (flags: string, help: string): Flag<string | undefined> => ({
  flags,
  help,
  parse: (raw) => (raw === undefined ? undefined : checkImageRef(String(raw), longOf(flags))),
});

export const imageBuild = defineCommand({
  command: 'build',
  summary: "build cellctl's image with docker (classic builder) from the folder cellctl is installed in",
  description:
    "Build cellctl's image from the Dockerfile in cellctl's package folder (not the working folder) with `docker build` (DOCKER_BUILDKIT=0), " +
    'on the engine DOCKER_HOST names. Reports the image size and what it adds over its base.',
  flags: {
    tag: imageRef('--tag <ref>', 'the image to make (default: cellctl:<version>)'),
    base: imageRef('--base <image>', `the base of both stages, a Node.js 20 image with a shell (default: ${DEFAULT_BASE}; pulled if missing)`),
    deps: oneOf(
      '--deps <mode>',
      'install (the default): npm ci in the build, which needs the npm registry; context: send the node_modules installed here',
      DEPS_MODES,
    ),
    push: {
      flags: '--push <registry>',
      help: 'then tag it REGISTRY/cellctl:<version> and push that',
      parse: (raw: unknown) => (raw === undefined ? undefined : checkRegistry(String(raw))),
    },
    output: output(),
  },
  examples: [
    'cellctl image build',
    'cellctl image build --base node-local:20 --deps context --tag cellctl:dev',
    'cellctl image build --push registry.example:5000/team -o json',
  ],
  epilogue: "With -o json it prints {tag, id, base, deps, sizeBytes, baseSizeBytes, addedBytes, pushed} and nothing of docker's output (unless it fails).",
  handler: () => import('../handlers/image.js').then((m) => m.build),
});

export const image = defineGroup({
  command: 'image',
  summary: "cellctl's container image: build it (and push it)",
  subcommands: [imageBuild],
  examples: ['cellctl image build', 'cellctl image build --deps context --base node-local:20'],
});
