import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist', 'node_modules', 'public', 'test-results', 'playwright-report', 'coverage'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.{ts,tsx}'],
    ...reactHooks.configs.flat.recommended,
    languageOptions: { globals: globals.browser },
    rules: {
      ...reactHooks.configs.flat.recommended.rules,
      // The engine worker owns every session: the UI talks to it through src/engine-client/ only.
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'onnxruntime-web', message: 'The UI never imports onnxruntime-web; go through src/engine-client/.' }],
          patterns: [
            { group: ['onnxruntime-web/*'], message: 'The UI never imports onnxruntime-web; go through src/engine-client/.' },
          ],
        },
      ],
    },
  },
  { files: ['workers/**/*.ts'], languageOptions: { globals: globals.worker } },
  {
    files: ['scripts/**/*.ts', 'e2e/**/*.ts', '*.config.{ts,js}', '**/*.test.{ts,tsx}', 'workers/**/testing/**', 'workers/test-support/**', 'workers/node/**', 'workers/convert/node-source.ts'],
    languageOptions: { globals: globals.node },
  },
);
