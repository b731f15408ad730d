import { defineConfig } from 'vitest/config';

// Three projects: unit (no database), integration (real PostgreSQL started by the test bed) and
// e2e (the built CLI as a child process against the same servers). The servers are started once
// by the test bed's globalSetup (shared by integration and e2e); every test file makes its own databases on them.
export default defineConfig({
  test: {
    reporters: ['default', './test/bed/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'], globalSetup: ['test/bed/global-setup.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], globalSetup: ['test/bed/global-setup.ts'] } },
    ],
  },
});
