// ESLint (flat config): typescript-eslint's type-aware rules; formatting is Prettier's (`make lint` runs both).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.stack/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.eslint.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A dropped promise is a crash or a silent loss: every one is awaited, returned or caught.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // An async function without await is how an implementation of a Promise-returning interface
      // turns its throws into rejections: not a defect.
      '@typescript-eslint/require-await': 'off',
      // The Kafka port (ARCHITECTURE.md, "Changing the Kafka client"): only libs/kafka speaks to the
      // client; everything else uses its types (libs/kafka/port.ts) and dasy's KafkaError.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['kafkajs', 'kafkajs/*'],
              message: "Only libs/kafka imports kafkajs: use the Kafka port (libs/kafka/port.ts) and dasy's KafkaError.",
            },
          ],
        },
      ],
    },
  },
  {
    // No import cycles (ARCHITECTURE.md, "The layers"): a module's imports, followed to their end,
    // never come back to it, dynamic import() included; no exceptions.
    files: ['apps/**/*.ts', 'libs/**/*.ts', 'bench/**/*.ts', 'chaos/**/*.ts', 'dev/**/*.ts', 'test/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts'],
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.d.ts', '.js', '.json'] })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // The layers of libs (ARCHITECTURE.md): libs/runtime on top, libs/resilience below everything
      // that talks to a server; libs never reach up into apps.
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            { target: './libs/!(runtime)/**', from: './libs/runtime', message: 'libs/runtime is the top lib: nothing below it imports it.' },
            {
              target: './libs/resilience',
              from: './libs/!(errors|log|resilience)/**',
              message: 'libs/resilience is a leaf: it imports libs/errors and libs/log only.',
            },
            { target: './libs', from: './apps', message: 'libs never import apps.' },
          ],
        },
      ],
    },
  },
  {
    // a test of a lib may check it against the parts declared in apps/components.ts
    files: ['libs/**/*.test.ts'],
    rules: { 'import-x/no-restricted-paths': 'off' },
  },
  {
    // the port's implementation over kafkajs, and its tests against the client itself
    files: ['libs/kafka/**'],
    rules: { '@typescript-eslint/no-restricted-imports': 'off' },
  },
  {
    // The product and its tools apart (ARCHITECTURE.md, "Entry points"): the shipped dasy never
    // loads the development entry point, the bench or chaos.
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/dev', '**/dev/*', '**/bench', '**/bench/*', '**/chaos', '**/chaos/*'],
              message: 'The product does not import the development tools (dev/, bench/, chaos/).',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests read JSON replies and fixtures as they come: `any` there is the point, not a leak.
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  prettier,
);
