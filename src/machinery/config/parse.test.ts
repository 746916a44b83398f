import { describe, expect, it } from "vitest";
import { CairnError } from "../../errors/index.js";
import { formatConfigErrors, parseMachineConfig, validateMachineConfig } from "./parse.js";
import { dummyKeyPem, sampleConfigYaml } from "./testdata/sample.js";

/** Runs fn, expecting a CairnError, and returns it. */
function catchCairn(fn: () => unknown): CairnError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CairnError);
    return e as CairnError;
  }
  throw new Error("expected a CairnError, nothing was thrown");
}

describe("parseMachineConfig", () => {
  it("parses the sample and fills defaults", () => {
    const cfg = parseMachineConfig(sampleConfigYaml);
    expect(cfg.machine.hostname).toBe("node-1");
    expect(cfg.machine.api.port).toBe(50000);
    expect(cfg.machine.network.interfaces[1]).toMatchObject({ mac: "52:54:00:12:34:56", dhcp: true, addresses: [] });
    expect(cfg.machine.ca.key).toBe(dummyKeyPem);
    expect(cfg.machine.sysctls).toEqual({ "net.ipv4.ip_forward": "1" });
  });

  it("reads a leading-zero file mode as octal, like chmod", () => {
    const cfg = parseMachineConfig(sampleConfigYaml);
    expect(cfg.machine.files[0]?.mode).toBe(0o644);
  });

  it("reports every mistake at once, each at its path", () => {
    const bad = sampleConfigYaml
      .replace("hostname: node-1", "hostname: Node_1")
      .replace("mtu: 1500", "mtu: 100")
      .replace("  time:", "  colour: blue\n  time:");
    const err = catchCairn(() => parseMachineConfig(bad, "bad.yaml"));
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.message).toBe("bad.yaml: 3 problems in machine config");
    expect(err.details.map((d) => d.path).sort()).toEqual([
      "machine.colour",
      "machine.hostname",
      "machine.network.interfaces[0].mtu",
    ]);
  });

  it("names an unknown field by its full path", () => {
    const err = catchCairn(() => parseMachineConfig(sampleConfigYaml.replace("  install:", "  foo: 1\n  install:")));
    expect(err.details).toEqual([{ path: "machine.foo", message: "unknown field" }]);
    expect(err.message).toBe("machine config: 1 problem in machine config");
  });

  it("reports YAML syntax errors at the root with line:column", () => {
    const err = catchCairn(() => parseMachineConfig("apiVersion: x\nmachine: [\n  a: 1\nkind: y\n", "broken.yaml"));
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.details.length).toBeGreaterThan(0);
    for (const d of err.details) {
      expect(d.path).toBe("");
      expect(d.message).toMatch(/^line \d+:\d+: /);
    }
  });

  it("rejects duplicate keys as a syntax problem", () => {
    const err = catchCairn(() => parseMachineConfig(sampleConfigYaml + "cluster:\n  name: other\n"));
    expect(err.details[0]?.message).toMatch(/^line \d+:\d+: .*unique/i);
  });

  it("says which required fields are missing", () => {
    const err = catchCairn(() => parseMachineConfig("apiVersion: cairn.dev/v1alpha1\nkind: MachineConfig\n"));
    expect(err.details).toEqual([
      { path: "machine", message: "required field is missing" },
      { path: "cluster", message: "required field is missing" },
    ]);
  });

  it("quotes dotted record keys so they are not read as nesting", () => {
    const err = catchCairn(() => parseMachineConfig(sampleConfigYaml.replace('net.ipv4.ip_forward: "1"', "net.ipv4.ip_forward: 1")));
    expect(err.details.map((d) => d.path)).toEqual(['machine.sysctls["net.ipv4.ip_forward"]']);
  });

  it("rejects duplicate interface names at the later item", () => {
    const bad = sampleConfigYaml.replace('- mac: "52:54:00:12:34:56"', "- name: eth0");
    const err = catchCairn(() => parseMachineConfig(bad));
    expect(err.details).toEqual([{ path: "machine.network.interfaces[1].name", message: 'duplicate name "eth0", also at [0]' }]);
  });
});

describe("validateMachineConfig", () => {
  it("rejects a non-mapping at the root", () => {
    for (const v of [null, undefined, [], "x", 3]) {
      const err = catchCairn(() => validateMachineConfig(v, "obj"));
      expect(err.details).toHaveLength(1);
      expect(err.details[0]?.path).toBe("");
    }
  });
});

describe("formatConfigErrors", () => {
  it("prints one line per detail", () => {
    const err = new CairnError("CONFIG_INVALID", "x: 2 problems", {
      details: [
        { path: "", message: "line 1:2: bad" },
        { path: "machine.foo", message: "unknown field" },
      ],
    });
    expect(formatConfigErrors(err)).toBe("<root>: line 1:2: bad\nmachine.foo: unknown field");
  });

  it("falls back to the message without details", () => {
    expect(formatConfigErrors(new CairnError("CONFIG_INVALID", "oops"))).toBe("oops");
  });
});

describe("parseMachineConfig document count", () => {
  it("rejects a second YAML document with its position", () => {
    const err = catchCairn(() => parseMachineConfig(sampleConfigYaml + "---\nkind: x\n"));
    expect(err.details).toHaveLength(1);
    expect(err.details[0]?.message).toMatch(/^line \d+:1: expected a single YAML document/);
  });
});
