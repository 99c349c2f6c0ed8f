import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Peers (brokers, pty pairs, pymodbus) bind ports and spawn processes: two files at a time on 2 cores.
    maxWorkers: 2,
  },
});
