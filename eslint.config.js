// Lint rules, plus the one-way dependency rule (docs/architecture.md, "The one-way import rule"):
// cli → daemon → follow/autofollow → shard → cluster/state, and cli → verify → cluster.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Local nodes for quickstart, the tests and the bench: no part of the replicator imports them. */
const LOCAL_CLUSTER = 'local-cluster';
const CLUSTER_METADATA = 'cluster-metadata';

/** Each part may not import the parts listed against it (they sit above it, or beside the replicator). */
const forbiddenImports = {
  cluster: ['state', 'lease', 'shard', 'follow', 'autofollow', CLUSTER_METADATA, 'verify', 'daemon', 'cli', LOCAL_CLUSTER],
  verify: ['state', 'lease', 'shard', 'follow', 'autofollow', CLUSTER_METADATA, 'daemon', 'cli', LOCAL_CLUSTER],
  state: ['cluster', 'lease', 'shard', 'follow', 'autofollow', CLUSTER_METADATA, 'verify', 'daemon', 'cli', LOCAL_CLUSTER],
  lease: ['cluster', 'shard', 'follow', 'autofollow', CLUSTER_METADATA, 'verify', 'daemon', 'cli', LOCAL_CLUSTER],
  shard: ['lease', 'follow', 'autofollow', CLUSTER_METADATA, 'daemon', 'cli', LOCAL_CLUSTER],
  follow: ['lease', 'autofollow', CLUSTER_METADATA, 'daemon', 'cli', LOCAL_CLUSTER],
  autofollow: ['lease', CLUSTER_METADATA, 'daemon', 'cli', LOCAL_CLUSTER],
  [CLUSTER_METADATA]: ['lease', 'shard', 'follow', 'autofollow', 'verify', 'daemon', 'cli', LOCAL_CLUSTER],
  daemon: ['cli', LOCAL_CLUSTER],
  cli: [LOCAL_CLUSTER],
  util: [LOCAL_CLUSTER],
  [LOCAL_CLUSTER]: ['cluster', 'state', 'lease', 'shard', 'follow', 'autofollow', CLUSTER_METADATA, 'verify', 'daemon', 'cli'],
};

/** Files of a part allowed what the rest of the part is not: quickstart starts local nodes. */
const exemptFiles = {
  cli: ['src/cli/quickstart.ts'],
};

function importMessage(part, p) {
  if (p === LOCAL_CLUSTER) {
    return `src/${part} may not import src/${LOCAL_CLUSTER}: only src/cli/quickstart.ts, test/ and bench/ start local nodes.`;
  }
  if (part === LOCAL_CLUSTER) {
    return `src/${LOCAL_CLUSTER} may not import src/${p}: it stands beside the replicator, not inside it.`;
  }
  return `src/${part} may not import src/${p}: dependencies point cli → daemon → follow/autofollow → shard → cluster/state.`;
}

const layerRules = Object.entries(forbiddenImports).map(([part, above]) => ({
  files: [`src/${part}/**/*.ts`],
  ignores: exemptFiles[part] ?? [],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: above.map((p) => ({
        group: [`../${p}/*`, `../../${p}/*`, `../${p}`, `../../${p}`],
        message: importMessage(part, p),
      })),
    }],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', Buffer: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...layerRules,
  {
    files: ['test/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error',
      { selector: "CallExpression[callee.object.name=/^(it|describe)$/][callee.property.name=/^(only|skip)$/]", message: 'No focused or skipped tests on main.' }] },
  },
);
