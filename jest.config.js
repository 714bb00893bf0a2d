/** Two projects: fast pure unit tests, and the end-to-end suite against a real engine. */
const tsJest = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }], '^.+\\.mjs$': '<rootDir>/scripts/jest-esm.js' };
/** node_modules stays untransformed except the ES-module-only packages the sources import. */
const transformIgnorePatterns = ['/node_modules/(?!toml-eslint-parser/)'];
module.exports = {
  projects: [
    { displayName: 'unit', testEnvironment: 'node', transform: tsJest, transformIgnorePatterns, testMatch: ['<rootDir>/__tests__/unit/**/*.test.ts'] },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      transform: tsJest,
      transformIgnorePatterns,
      testMatch: ['<rootDir>/__tests__/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/__tests__/e2e/support/global-setup.ts',
    },
  ],
};
