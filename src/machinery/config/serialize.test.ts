import { describe, expect, it } from "vitest";
import { parseMachineConfig } from "./parse.js";
import { stringifyMachineConfig } from "./serialize.js";
import { sampleConfigYaml } from "./testdata/sample.js";

describe("stringifyMachineConfig", () => {
  it("round-trips a validated config", () => {
    const cfg = parseMachineConfig(sampleConfigYaml);
    const text = stringifyMachineConfig(cfg);
    expect(parseMachineConfig(text)).toEqual(cfg);
    // And the text is a fixed point: serializing again changes nothing.
    expect(stringifyMachineConfig(parseMachineConfig(text))).toBe(text);
  });

  it("writes keys in schema order whatever order they were inserted in", () => {
    const cfg = parseMachineConfig(sampleConfigYaml);
    const shuffled = {
      cluster: cfg.cluster,
      machine: Object.fromEntries(Object.entries(cfg.machine).reverse()),
      kind: cfg.kind,
      apiVersion: cfg.apiVersion,
    } as typeof cfg;
    const text = stringifyMachineConfig(shuffled);
    expect(text).toBe(stringifyMachineConfig(cfg));
    expect(text.startsWith("apiVersion: cairn.dev/v1alpha1\nkind: MachineConfig\nmachine:\n  hostname: node-1\n")).toBe(true);
  });

  it("writes file modes in octal and PEM as a literal block", () => {
    const text = stringifyMachineConfig(parseMachineConfig(sampleConfigYaml));
    expect(text).toContain("mode: 0o644");
    expect(text).toMatch(/cert: \|\n\s+-----BEGIN CERTIFICATE-----\n/);
  });

  it("sorts record keys", () => {
    const cfg = parseMachineConfig(sampleConfigYaml);
    const text = stringifyMachineConfig({ ...cfg, machine: { ...cfg.machine, env: { ZED: "1", ALPHA: "2" } } });
    expect(text).toMatch(/env:\n\s+ALPHA: "2"\n\s+ZED: "1"\n/);
  });

  it("leaves out defaults the input did not set", () => {
    const text = stringifyMachineConfig({
      apiVersion: "cairn.dev/v1alpha1",
      kind: "MachineConfig",
      machine: { ca: { cert: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n" } },
      cluster: { name: "c" },
    });
    expect(text).not.toContain("network");
    expect(parseMachineConfig(text).machine.api.port).toBe(50000);
  });
});
