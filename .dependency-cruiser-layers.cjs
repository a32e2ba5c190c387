/**
 * Component-level cycles, checked by `npm run lint:deps` after .dependency-cruiser.cjs (ADR 0079).
 * Folder-scoped: every folder directly under src/ is one node (its sub-folders' imports count as its
 * own), and no component may depend on itself through others, type-only imports included. The root
 * modules src/types.ts and src/errors.ts are left out of this graph: they import no component (the
 * main config checks that), and a folder holding them would make `src` itself look like a component
 * that every other one cycles through.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-component-cycles',
      severity: 'error',
      comment:
        'Components form a layered graph (docs/architecture.md). A type two components need lives in ' +
        'the lower one, or in src/types.ts.',
      scope: 'folder',
      from: { path: '^src/[^/]+$' },
      to: { circular: true, path: '^src/[^/]+$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^node_modules', '^src/[^/]+\\.ts$'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
