import { describe, expect, it } from "vitest";
import * as config from "./index.js";

describe("config barrel", () => {
  it("exports the public API", () => {
    for (const name of [
      "API_VERSION",
      "KIND",
      "MachineConfigSchema",
      "SECRET_PATHS",
      "parseMachineConfig",
      "validateMachineConfig",
      "formatConfigErrors",
      "stringifyMachineConfig",
      "redactMachineConfig",
      "applyConfigPatches",
      "loadPatchArg",
      "diffConfigs",
      "unifiedConfigDiff",
      "classifyDeltas",
      "rebootRequiredPaths",
      "machineConfigJsonSchema",
    ]) {
      expect(config[name as keyof typeof config], name).toBeDefined();
    }
  });

  it("parse → patch → validate → diff → classify works end to end", async () => {
    const { sampleConfigYaml } = await import("./testdata/sample.js");
    const active = config.parseMachineConfig(sampleConfigYaml);
    const patched = config.applyConfigPatches(active, ["machine:\n  kernel:\n    args: [quiet]\n  hostname: node-9\n"]);
    const next = config.validateMachineConfig(patched, "patched");
    const changes = config.classifyDeltas(config.diffConfigs(active, next));
    expect(config.rebootRequiredPaths(changes)).toEqual(["machine.kernel.args"]);
    expect(changes.find((c) => c.path === "machine.hostname")?.needsReboot).toBe(false);
  });
});
