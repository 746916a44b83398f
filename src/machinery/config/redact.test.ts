import { describe, expect, it } from "vitest";
import { parseMachineConfig } from "./parse.js";
import { REDACTED, redactMachineConfig } from "./redact.js";
import { SECRET_PATHS } from "./schema.js";
import { stringifyMachineConfig } from "./serialize.js";
import { dummyKeyPem, sampleConfigYaml } from "./testdata/sample.js";

describe("redactMachineConfig", () => {
  it("replaces the CA key, the etcd client key and registry passwords and nothing else, leaving the input untouched", () => {
    const cfg = parseMachineConfig(sampleConfigYaml);
    const before = structuredClone(cfg);
    const red = redactMachineConfig(cfg);
    expect(red.machine.ca.key).toBe(REDACTED);
    expect(red.machine.update.coordination?.etcd?.key).toBe(REDACTED);
    expect(cfg).toEqual(before);
    expect(cfg.machine.ca.key).toBe(dummyKeyPem);
    const etcd = red.machine.update.coordination!.etcd!;
    const update = { ...red.machine.update, coordination: { etcd: { ...etcd, key: dummyKeyPem } } };
    expect(red.machine.registries["registry.example:5000"]?.password).toBe(REDACTED);
    const registries = { "registry.example:5000": { ...red.machine.registries["registry.example:5000"]!, password: "dummy-registry-password" } };
    expect({ ...red, machine: { ...red.machine, ca: { ...red.machine.ca, key: dummyKeyPem }, update, registries } }).toEqual(cfg);
  });

  it("leaves no secret material in the serialized output", () => {
    const text = stringifyMachineConfig(redactMachineConfig(parseMachineConfig(sampleConfigYaml)));
    expect(text).not.toContain("PRIVATE KEY");
    expect(text).toContain('key: "[redacted]"');
  });

  it("keeps an absent secret absent", () => {
    const cfg = parseMachineConfig(sampleConfigYaml);
    delete cfg.machine.ca.key;
    expect("key" in redactMachineConfig(cfg).machine.ca).toBe(false);
  });

  it("covers every SECRET_PATHS entry", () => {
    const cfg = parseMachineConfig(sampleConfigYaml);
    const red = redactMachineConfig(cfg) as unknown as Record<string, unknown>;
    for (const path of SECRET_PATHS) {
      // "*" walks into the first key the sample has there (e.g. its one registry).
      const step = (n: unknown, k: string): unknown => {
        const rec = n as Record<string, unknown> | undefined;
        return k === "*" ? Object.values(rec ?? {})[0] : rec?.[k];
      };
      const value = path.split(".").reduce<unknown>(step, red);
      expect(value, path).toBe(REDACTED);
    }
  });
});
