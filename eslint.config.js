// Lint rules, including the import rules from AGENTS.md: every folder of src/ may import only
// the layers below it (LAYERS in scripts/check-structure.mjs, which `npm run lint` also runs to
// catch import circles); core imports nothing of ours; guard only core. Functions stay under
// 120 lines unless their header says why.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { LAYERS } from './scripts/check-structure.mjs';

const restrict = (patterns) => ({
  'no-restricted-imports': ['error', { patterns: patterns.map((group) => ({ group: [group], message: 'crosses a trust boundary; see AGENTS.md' })) }],
});

// For each folder: the folders of its own layer and of every layer above it (exec may use mask).
const layerRules = LAYERS.flatMap((folders, rank) =>
  folders.map((folder) => {
    const above = LAYERS.slice(rank).flat().filter((other) => other !== folder && !(folder === 'exec' && other === 'mask'));
    // The guard reads command text and file heads only: nothing of ours but core.
    const forbidden = folder === 'guard' ? [...above, 'platform', 'config', 'request'] : above;
    return { files: [`src/${folder}/**`], rules: restrict(forbidden.map((other) => `**/${other}/*`)) };
  }),
);

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'src/version.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  ...layerRules,
  { files: ['src/core/**'], rules: restrict(['../*', '!./*']) },
  { files: ['src/**'], rules: { 'max-lines-per-function': ['error', { max: 120, skipBlankLines: true, skipComments: true }] } },
  { files: ['test/**', 'scripts/**', 'bin/**', '*.config.*'], rules: { 'no-console': 'off' } },
  { files: ['test/fixtures/bin/*', 'scripts/**'], languageOptions: { sourceType: 'module' } },
  { files: ['bin/**', 'scripts/**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly' } }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
