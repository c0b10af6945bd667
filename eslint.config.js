// Lint: typescript-eslint's recommended rules, plus the architecture's one hard boundary:
// the core (shared/) imports no cloud SDK.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'dist/', 'evidence/', 'coverage/', '.bench/', '.s3-server/', 'reports/', '.stryker-tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['@aws-sdk/*', '@azure/*', '@google-cloud/*', 'aws-cdk-lib', 'aws-cdk-lib/*'], message: 'shared/ is the cloud-free core: put SDK code in functions/<cloud>/adapters/.' },
        ],
      }],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'shared/ never reads process.env: take configuration as an argument.' }],
    },
  },
);
