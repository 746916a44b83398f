import { defineConfig } from "vitest/config";

// Three levels: unit tests beside the code, process-mode integration tests
// over real mTLS gRPC, and QEMU end-to-end tests. `npm test` runs all three.
export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["src/**/*.test.ts"], testTimeout: 20_000 } },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          // QEMU under TCG saturates both cores: run e2e files one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
