import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { plugin as gatehouse } from './lint/rooms.js';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tap/', 'coverage/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', AbortController: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error', 'warn'] }],
    },
  },
  // Dependencies point one way between the rooms of src/ (the table is in lint/rooms.js).
  { files: ['src/**/*.ts'], plugins: { gatehouse }, rules: { 'gatehouse/rooms': 'error' } },
  { files: ['src/cli*.ts', 'src/admin/cli*.ts', 'bench/**', 'test/**'], rules: { 'no-console': 'off' } },
);
