// Lint rules, plus the one-way dependency rule (docs/architecture.md, "The one-way import rule"):
// cli → daemon → follow/autofollow → shard → cluster/state, and cli → verify → cluster.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Each part may not import the parts listed against it (they sit above it). */
const forbiddenImports = {
  cluster: ['state', 'shard', 'follow', 'autofollow', 'verify', 'daemon', 'cli'],
  verify: ['state', 'shard', 'follow', 'autofollow', 'daemon', 'cli'],
  state: ['cluster', 'shard', 'follow', 'autofollow', 'verify', 'daemon', 'cli'],
  shard: ['follow', 'autofollow', 'daemon', 'cli'],
  follow: ['autofollow', 'daemon', 'cli'],
  autofollow: ['daemon', 'cli'],
  daemon: ['cli'],
};

const layerRules = Object.entries(forbiddenImports).map(([part, above]) => ({
  files: [`src/${part}/**/*.ts`],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: above.map((p) => ({
        group: [`../${p}/*`, `../../${p}/*`, `../${p}`, `../../${p}`],
        message: `src/${part} may not import src/${p}: dependencies point cli → daemon → follow/autofollow → shard → cluster/state.`,
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
