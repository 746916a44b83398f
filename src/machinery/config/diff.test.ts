import { describe, expect, it } from "vitest";
import { diffConfigs, unifiedConfigDiff } from "./diff.js";
import { parseMachineConfig } from "./parse.js";
import { stringifyMachineConfig } from "./serialize.js";
import { sampleConfigYaml } from "./testdata/sample.js";

const sample = () => parseMachineConfig(sampleConfigYaml);

describe("diffConfigs", () => {
  it("finds nothing between equal configs", () => {
    expect(diffConfigs(sample(), sample())).toEqual([]);
  });

  it("reports a hostname change as one replace", () => {
    const next = sample();
    next.machine.hostname = "node-2";
    expect(diffConfigs(sample(), next)).toEqual([{ path: "machine.hostname", op: "replace" }]);
  });

  it("compares kernel args as one value", () => {
    const next = sample();
    next.machine.kernel.args.push("quiet");
    expect(diffConfigs(sample(), next)).toEqual([{ path: "machine.kernel.args", op: "replace" }]);
  });

  it("compares interfaces by name or mac, ignoring order", () => {
    const prev = sample();
    const next = sample();
    next.machine.network.interfaces.reverse();
    expect(diffConfigs(prev, next)).toEqual([]);
    const eth0 = next.machine.network.interfaces.find((i) => i.name === "eth0");
    if (eth0 === undefined) throw new Error("sample lost eth0");
    eth0.mtu = 9000;
    next.machine.network.interfaces.push({ name: "eth2", dhcp: true, addresses: [], routes: [] });
    expect(diffConfigs(prev, next)).toEqual([
      { path: "machine.network.interfaces[eth0].mtu", op: "replace" },
      { path: "machine.network.interfaces[eth2].name", op: "add" },
      { path: "machine.network.interfaces[eth2].dhcp", op: "add" },
      { path: "machine.network.interfaces[eth2].addresses", op: "add" },
      { path: "machine.network.interfaces[eth2].routes", op: "add" },
    ]);
  });

  it("reports removed keys, files and record entries leaf by leaf", () => {
    const prev = sample();
    const next = sample();
    delete next.machine.hostname;
    next.machine.files = [];
    next.machine.sysctls = { "vm.swappiness": "10" };
    expect(diffConfigs(prev, next)).toEqual([
      { path: 'machine.sysctls["vm.swappiness"]', op: "add" },
      { path: 'machine.sysctls["net.ipv4.ip_forward"]', op: "remove" },
      { path: "machine.files[/etc/motd].path", op: "remove" },
      { path: "machine.files[/etc/motd].content", op: "remove" },
      { path: "machine.files[/etc/motd].mode", op: "remove" },
      { path: "machine.files[/etc/motd].op", op: "remove" },
      { path: "machine.hostname", op: "remove" },
    ]);
  });

  it("treats no previous config as all adds", () => {
    const deltas = diffConfigs(undefined, sample());
    expect(deltas.every((d) => d.op === "add")).toBe(true);
    expect(deltas.map((d) => d.path)).toContain("machine.network.interfaces[52:54:00:12:34:56].dhcp");
    expect(deltas.map((d) => d.path)).toContain("machine.ca.key");
  });
});

describe("unifiedConfigDiff", () => {
  it("shows the changed line with labels", () => {
    const next = sample();
    next.machine.hostname = "node-2";
    const text = unifiedConfigDiff(stringifyMachineConfig(sample()), stringifyMachineConfig(next), {
      oldLabel: "active",
      newLabel: "requested",
    });
    expect(text).toContain("--- active");
    expect(text).toContain("+++ requested");
    expect(text).toContain("-  hostname: node-1");
    expect(text).toContain("+  hostname: node-2");
  });

  it("is empty for equal texts", () => {
    expect(unifiedConfigDiff("a: 1\n", "a: 1\n")).toBe("");
  });
});
