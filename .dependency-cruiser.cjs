// Which part of cellctl may import which (npm run lint). Arrows point down:
//   shared  ←  data  ←  control, cell, templates, workload, engine  ←  workspace  ←  router, supervisor, migration,
//   status, drill  ←  dashboard  ←  cli
// (image/, cellctl's container image, sits on shared/ and the cell's health probe; only the CLI uses it)
// (the dashboard is a shell like the CLI: it reads what `status` and `route` read, for a page)
// Parts on one level reach each other only through a public API module (client.ts, protocol.ts)
// or a pure module made for sharing; nothing imports the CLI; nothing is circular.
const SERVICES = '(router|supervisor|migration|status|drill)';
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle means two modules are one: merge them or move the shared piece below both.',
      from: {},
      // A type-only import is erased: a command handler names its input type after its definition, which loads it lazily.
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'shared-is-the-bottom',
      severity: 'error',
      comment: 'shared/ is used by every part and uses none.',
      from: { path: '^src/shared/' },
      to: { path: '^src/(?!shared/)' },
    },
    {
      name: 'base-parts-stay-low',
      severity: 'error',
      comment: 'control/, templates/, cell/, workload/, data/ and engine/ sit just above shared/: they know nothing of the workspace, the services or the CLI.',
      from: { path: '^src/(control|templates|cell|workload|data|engine)/' },
      to: { path: `^src/(workspace|cli|${SERVICES.slice(1, -1)})/` },
    },
    {
      name: 'cell-knows-no-templates',
      severity: 'error',
      comment: 'The cell runtime owns its built-in apps; templates name them, not the other way.',
      from: { path: '^src/cell/' },
      to: { path: '^src/templates/' },
    },
    {
      name: 'data-api-is-alone',
      severity: 'error',
      comment: 'The data API (server and client) depends only on shared/: cells on any host run it.',
      from: { path: '^src/data/' },
      to: { path: '^src/(?!data/|shared/)' },
    },
    {
      name: 'control-is-alone',
      severity: 'error',
      comment: 'The control store depends only on shared/.',
      from: { path: '^src/control/' },
      to: { path: '^src/(?!control/|shared/)' },
    },
    {
      name: 'control-records-below-both-stores',
      severity: 'error',
      comment:
        'The records and errors (control/records.ts) sit below the interface and both stores; the interface and the PostgreSQL store know nothing of the SQLite one.',
      from: { path: '^src/control/(records|plane|dump|pg-.*)\\.ts$' },
      to: { path: '^src/control/(store|sqlite-plane|schema|copy)\\.ts$' },
    },
    {
      name: 'control-records-import-nothing',
      severity: 'error',
      from: { path: '^src/control/records\\.ts$' },
      to: { path: '^src/(?!shared/)' },
    },
    {
      name: 'image-stays-low',
      severity: 'error',
      comment:
        "The image (its build and its health check) uses shared/, the docker client (engine/) and the cell's health probe: nothing of the workspace or the services.",
      from: { path: '^src/image/' },
      to: { path: `^src/(?!image/|shared/|engine/|cell/client\\.ts$)` },
    },
    { name: 'workspace-below-services', severity: 'error', from: { path: '^src/workspace/' }, to: { path: `^src/(cli|${SERVICES.slice(1, -1)})/` } },
    { name: 'nothing-imports-the-cli', severity: 'error', from: { path: '^src/(?!cli/)' }, to: { path: '^src/cli/' } },
    { name: 'only-the-cli-starts-the-dashboard', severity: 'error', from: { path: '^src/(?!cli/|dashboard/)' }, to: { path: '^src/dashboard/' } },
    {
      name: 'services-meet-through-their-apis',
      severity: 'error',
      comment: 'One service uses another only through its client, protocol, or a pure shared module.',
      from: { path: `^src/${SERVICES}/` },
      to: { path: `^src/${SERVICES}/`, pathNot: ['^src/$1/', '/(client|protocol)\\.ts$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
