// The layers of src/ and the import rules between them, checked by dependency-cruiser in `npm test`
// (test/architecture.test.ts). Run by hand: npm run layers
//
// LOW: measuring and faulting (engine, proxy, faults, metrics, thresholds, har), shared pieces (util,
// errors, model) and the chaos figures (recovery, verdicts). HIGH: orchestrators that run things and
// build result documents (session, campaign), reporters (report) and front ends (cli, commands, demo).
// High code may import low code; low code never imports high code, type imports included.

/** Low-layer paths, as regular expressions on paths relative to the project root. */
const LOW = [
  '^src/engine/',
  '^src/proxy/',
  '^src/faults/',
  '^src/metrics/',
  '^src/thresholds/',
  '^src/util/',
  '^src/errors\\.ts$',
  '^src/model/',
  '^src/har/',
  '^src/chaos/recovery\\.ts$',
  '^src/chaos/verdicts\\.ts$',
  '^src/behaviour/',
  '^src/halt/',
];

const HIGH = [
  '^src/report/',
  '^src/campaign/',
  '^src/cli/',
  '^src/commands/',
  '^src/session/',
  '^src/demo/',
];

/** Above both layers: the library's entry point, which re-exports from either. */
const TOP = ['^src/index\\.ts$'];

module.exports = {
  forbidden: [
    {
      name: 'low-imports-high',
      severity: 'error',
      comment:
        'Low-layer code (engine, proxy, faults, metrics, thresholds, util, errors, model, har, chaos figures) ' +
        'must not import high-layer code (report, campaign, cli, commands, session, demo): ' +
        'move the shared piece down, or build the document in an orchestrator.',
      from: { path: LOW },
      to: { path: HIGH },
    },
    // Seen through a module's imports: a module that imports nothing escapes it (and can break no rule).
    {
      name: 'unlayered',
      severity: 'error',
      comment: 'Every module of src/ belongs to a layer: add its path to LOW or HIGH in .dependency-cruiser.cjs.',
      from: { path: '^src/', pathNot: [...LOW, ...HIGH, ...TOP] },
      to: {},
    },
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'Import cycles make load order fragile and hide layering: break the cycle by moving the shared piece into its own module.',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a low module that names a high type still depends on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
