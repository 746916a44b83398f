import { describe, expect, it } from "vitest";
import { classifyDeltas, rebootRequiredPaths } from "./classify.js";
import { diffConfigs } from "./diff.js";
import { parseMachineConfig } from "./parse.js";
import { sampleConfigYaml } from "./testdata/sample.js";

const sample = () => parseMachineConfig(sampleConfigYaml);

describe("classifyDeltas", () => {
  it("applies a hostname change live", () => {
    const next = sample();
    next.machine.hostname = "node-2";
    const classified = classifyDeltas(diffConfigs(sample(), next));
    expect(classified).toEqual([
      { path: "machine.hostname", op: "replace", needsReboot: false, reason: expect.stringContaining("machine.hostname") },
    ]);
    expect(rebootRequiredPaths(classified)).toEqual([]);
  });

  it("needs a reboot for kernel args, even mixed with live changes", () => {
    const next = sample();
    next.machine.hostname = "node-2";
    next.machine.kernel.args = ["console=ttyS0", "quiet"];
    const classified = classifyDeltas(diffConfigs(sample(), next));
    expect(classified.map((c) => [c.path, c.needsReboot])).toEqual([
      ["machine.hostname", false],
      ["machine.kernel.args", true],
    ]);
    expect(rebootRequiredPaths(classified)).toEqual(["machine.kernel.args"]);
  });

  it("uses the most specific rule: certSANs live, api port reboot", () => {
    const classified = classifyDeltas([
      { path: "machine.api.certSANs", op: "replace" },
      { path: "machine.api.port", op: "replace" },
      { path: "machine.network.interfaces[eth0].mtu", op: "replace" },
      { path: "machine.ca.cert", op: "replace" },
    ]);
    expect(classified.map((c) => c.needsReboot)).toEqual([false, true, false, true]);
  });

  it("matches whole segments and reboots for unknown paths", () => {
    const classified = classifyDeltas([
      { path: "machine.hostnameX", op: "add" },
      { path: "machine.somethingNew", op: "add" },
      { path: "cluster.id", op: "add" },
    ]);
    expect(classified.every((c) => c.needsReboot)).toBe(true);
    expect(classified[0]?.reason).toMatch(/no rule/);
  });

  it("has a rule for every field of a full config", () => {
    const uncovered = classifyDeltas(diffConfigs(undefined, sample())).filter((c) => c.reason.startsWith("no rule"));
    expect(uncovered.map((c) => c.path)).toEqual([]);
  });

  it("deduplicates reboot paths", () => {
    const d = { path: "machine.kernel.args", op: "replace" as const };
    expect(rebootRequiredPaths(classifyDeltas([d, d]))).toEqual(["machine.kernel.args"]);
  });
});
