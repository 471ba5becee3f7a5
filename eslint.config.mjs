import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.dist-build-*/', 'coverage/', 'docs/api/', '.fixtures/', '.demo/', '.dev/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly' },
    },
  },
  {
    // Layering (ARCHITECTURE.md): only handlers load model runtimes.
    files: ['src/**/*.ts'],
    ignores: ['src/handlers/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['onnxruntime-node', '@tensorflow/*'], message: 'Only handlers load model runtimes.' }] },
      ],
    },
  },
);
