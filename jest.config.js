/**
 * Jest runs the compiled tests in dist/ (`npm run build` first): the code under test is the
 * JavaScript that ships, and TypeScript's `import()` of ESM-only packages such as got stays a
 * real dynamic import, which Jest supports under --experimental-vm-modules.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/dist/tests"],
  testMatch: ["**/*.test.js"],
  transform: {},
  watchman: false,
  testTimeout: 60000,
  // Most test files wait (on timeouts, retries, provider hosts starting) far more than they
  // compute: three at a time keep 2 cores busy without starving the time-sensitive ones.
  maxWorkers: 3,
};
