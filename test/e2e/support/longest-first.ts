import { basename } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Seconds each QEMU e2e file took in the last CI run (2 vCPU, TCG, two files
 * at a time). Only the order matters: with two workers, starting the longest
 * files first keeps one lane from running a 15-minute file alone at the end
 * (longest-processing-time-first). A file not listed counts as short.
 */
const E2E_SECONDS: Readonly<Record<string, number>> = {
  "power-cut-soak": 885,
  "fleet-updates": 807,
  upgrade: 405,
  "upgrade-rollback": 227,
  "config-controllers": 207,
  workloads: 203,
  observability: 65,
  "node-lifecycle": 49,
};

const weight = (s: TestSpecification): number => E2E_SECONDS[basename(s.moduleId, ".test.ts")] ?? 0;

/** vitest's own order (groups, projects, cache), then within each project's run the longest files first. */
export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const runs: TestSpecification[][] = [];
    for (const f of sorted) {
      const run = runs.at(-1);
      if (run && run[0]!.project.name === f.project.name) run.push(f);
      else runs.push([f]);
    }
    return runs.flatMap((run) => (run[0]!.project.name === "e2e" ? [...run].sort((a, b) => weight(b) - weight(a)) : run));
  }
}
