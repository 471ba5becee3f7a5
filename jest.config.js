/** @type {import('jest').Config} */
module.exports = {
  // What rxjs-inference/testing/environment ships: typed arrays from the outer realm for onnxruntime-node.
  testEnvironment: '<rootDir>/testing/environment.js',
  globalSetup: '<rootDir>/test/globalSetup.js',
  setupFiles: ['<rootDir>/test/quietOnnxruntime.js'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  // Sources import siblings as `./x.js` (required by the ES-module build); Jest resolves them to `.ts`.
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // Examples and acceptance-style tests import the public names, resolved to the sources.
    '^rxjs-inference$': '<rootDir>/src/index.ts',
    // Every public subpath X is src/X/index.ts (see scripts/build.mjs).
    '^rxjs-inference/([a-z]+)$': '<rootDir>/src/$1/index.ts',
  },
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  testTimeout: 30000,
  collectCoverage: true,
  collectCoverageFrom: ['src/**/*.ts', '!src/**/index.ts', '!src/cli/main.ts'],
  coverageReporters: ['text-summary', 'lcov'],
  coverageThreshold: { global: { lines: 90 } },
};
