/**
 * Module boundaries, checked by `npm run lint` (dependency-cruiser; ADR 0079).
 *
 * Every folder directly under src/ is a component. Code outside a component imports it only through
 * its public surface, `src/<component>/index.ts`. src/types.ts and src/errors.ts are shared root
 * modules that anyone may import. What the folders around src/ may import:
 * - test/      anything: a test may reach the internals of the component it tests;
 * - bench/, testnet/, examples/, bin/: only public surfaces (they are users of the node);
 * - src/       never test/, bench/ or examples/; only src/cli may run the testnet tooling, through
 *              testnet/index.ts.
 * No module of src/ may depend on itself through others; cycles between components are checked by
 * .dependency-cruiser-layers.cjs (folder scope).
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'component-internals',
      severity: 'error',
      comment:
        'A component is imported from outside its folder only through src/<component>/index.ts ' +
        '(src/types.ts and src/errors.ts are shared). Export what you need from that index.ts.',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$'] },
    },
    {
      name: 'tools-use-public-surfaces',
      severity: 'error',
      comment:
        'bench/, testnet/, examples/, bin/ and the root modules of src/ use components only through ' +
        'src/<component>/index.ts (test/ may reach internals of what it tests).',
      from: { path: '^(bench|testnet|examples|bin)/|^src/[^/]+\\.ts$' },
      to: { path: '^src/[^/]+/', pathNot: '^src/[^/]+/index\\.ts$' },
    },
    {
      name: 'src-not-to-tooling',
      severity: 'error',
      comment: 'Production code never imports tests, benchmarks or examples.',
      from: { path: '^src/' },
      to: { path: '^(test|bench|examples)/' },
    },
    {
      name: 'testnet-only-from-cli',
      severity: 'error',
      comment: 'Only the CLI (`ordo testnet`) runs the testnet tooling, and only through testnet/index.ts.',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^testnet/' },
    },
    {
      name: 'testnet-public-surface',
      severity: 'error',
      comment: 'The CLI uses the testnet tooling only through testnet/index.ts.',
      from: { path: '^src/cli/' },
      to: { path: '^testnet/', pathNot: '^testnet/index\\.ts$' },
    },
    {
      name: 'no-module-cycles',
      severity: 'error',
      comment:
        'No module of src/ depends on itself through others (type-only imports count too). A type ' +
        'that two components need lives in the lower one, or in src/types.ts.',
      from: { path: '^src/[^/]+/' },
      to: { circular: true, pathNot: '^src/[^/]+\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^node_modules', '^proto/', '^docs/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
