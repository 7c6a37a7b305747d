import { defineConfig } from 'vitest/config';

// Tests never see the developer's own agent-secret or op settings: each e2e test builds
// its own sandbox (temp HOME/XDG dirs, fake op and approver first on PATH).
export default defineConfig({
  test: {
    restoreMocks: true,
    unstubEnvs: true,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          pool: 'forks',
          // Property tests run hundreds of cases; on a loaded CI machine 5 s is too tight
          // (a timeout is not a finding). Timing is measured by npm run bench, never here.
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e.test.ts'],
          pool: 'forks',
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
    ],
  },
});
