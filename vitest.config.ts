import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Tests talk to real servers on loopback; a failure should say which one, not time out silently.
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
