import { defineConfig } from "vitest/config";
import LongestFirstSequencer from "./test/e2e/support/longest-first.js";

// Three levels: unit tests beside the code, process-mode integration tests
// over real mTLS gRPC, and QEMU end-to-end tests. `npm test` runs all three.
export default defineConfig({
  test: {
    // The long QEMU files start first so the two e2e lanes finish together.
    sequence: { sequencer: LongestFirstSequencer },
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
          // Each TCG guest has one vCPU, so one VM keeps one host core busy:
          // two e2e files at a time on the 2-core CI host, after unit and
          // integration (a later group), with the image built once up front.
          globalSetup: ["test/e2e/support/global-setup.ts"],
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
