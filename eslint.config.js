// Lint rules, including the trust-boundary import rules from AGENTS.md: core imports nothing
// of ours; request imports core (and config types); approval, provider, exec and audit never
// import one another; nothing imports cli.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ({
  'no-restricted-imports': ['error', { patterns: patterns.map((group) => ({ group: [group], message: 'crosses a trust boundary; see AGENTS.md' })) }],
});

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
  { files: ['src/core/**'], rules: restrict(['../*', '!./*']) },
  { files: ['src/request/**'], rules: restrict(['../approval/*', '../provider/*', '../exec/*', '../audit/*', '../cli/*', '../daemon/*']) },
  { files: ['src/approval/**'], rules: restrict(['**/provider/*', '**/exec/*', '**/audit/*', '**/cli/*']) },
  { files: ['src/provider/**'], rules: restrict(['**/approval/*', '**/exec/*', '**/audit/*', '**/cli/*']) },
  { files: ['src/exec/**'], rules: restrict(['**/approval/*', '**/provider/*', '**/audit/*', '**/cli/*']) },
  { files: ['src/audit/**'], rules: restrict(['**/approval/*', '**/provider/*', '**/exec/*', '**/cli/*']) },
  { files: ['src/config/**', 'src/platform/**'], rules: restrict(['**/approval/*', '**/provider/*', '**/exec/*', '**/audit/*', '**/cli/*']) },
  { files: ['test/**', 'scripts/**', 'bin/**', '*.config.*'], rules: { 'no-console': 'off' } },
  { files: ['test/fixtures/bin/*', 'scripts/**'], languageOptions: { sourceType: 'module' } },
  { files: ['bin/**', 'scripts/**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly' } }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
