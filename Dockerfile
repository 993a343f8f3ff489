# cellctl as an image (docs/engines.md): a build stage that installs and compiles, and a runtime
# stage that holds only the result. The classic builder (DOCKER_BUILDKIT=0) accepts it; so does
# BuildKit. `cellctl image build` runs it.
#   --build-arg BASE=IMAGE    the base of both stages: a Node.js 20 image with a shell (default below)
#   --build-arg DEPS=install  `npm ci` in the build stage: needs the npm registry; compiles
#                             better-sqlite3 with python3, make and g++ from apt (the context is the
#                             checkout, .dockerignore keeps node_modules, dist and the rest out)
#   --build-arg DEPS=context  use the node_modules in the build context, made on a machine with the
#                             base's libc and Node.js (`cellctl image build --deps context` puts them there)
# Either way dist/ is built here from src/ and the dev dependencies are pruned before the copy; type
# declarations go too (prune keeps @types/node, an optional peer of @inquirer/*; nothing runs them).
ARG BASE=node:20-bookworm-slim

FROM ${BASE} AS build
ARG DEPS=install
WORKDIR /src
COPY . .
RUN set -e; \
    case "$DEPS" in \
      install) \
        apt-get update; \
        apt-get install -y --no-install-recommends python3 make g++; \
        npm ci --no-audit --no-fund ;; \
      context) \
        if [ ! -d node_modules ]; then echo "DEPS=context needs node_modules in the build context (cellctl image build --deps context puts them there)" >&2; exit 1; fi; \
        npm run build ;; \
      *) echo "DEPS is install or context, not \"$DEPS\"" >&2; exit 1 ;; \
    esac; \
    npm prune --omit=dev --no-audit --no-fund; \
    rm -rf node_modules/@types node_modules/undici-types; \
    mkdir /app; \
    mv package.json bin dist templates node_modules /app/; \
    chmod -R a+rX,go-w /app

FROM ${BASE}
ENV NODE_ENV=production
COPY --from=build /app /app
# Mode 1777: a new named volume mounted here copies it, so a container run with any --user can
# write its data.db there.
RUN mkdir -p /data && chmod 1777 /data
WORKDIR /data
# Any numeric uid works (no passwd entry is needed); this one owns nothing in the image.
USER 10001:10001
# CELLCTL_ROLE (cell, router or agent) and that role's port variable say what to probe; the script
# exits 1 naming a variable that is missing (docs/engines.md has the contract).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["node", "/app/dist/image/healthcheck.js"]
ENTRYPOINT ["node", "/app/bin/cellctl.js"]
CMD ["--help"]
