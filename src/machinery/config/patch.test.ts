import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { CairnError } from "../../errors/index.js";
import { validateMachineConfig } from "./parse.js";
import { applyConfigPatches, loadPatchArg, readPatchArg } from "./patch.js";
import { sampleConfigYaml } from "./testdata/sample.js";

/** The sample as a plain (unvalidated) object, as patches see it. */
const base = () => parse(sampleConfigYaml) as { machine: Record<string, any>; cluster: { name: string } };

function catchCairn(fn: () => unknown): CairnError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CairnError);
    return e as CairnError;
  }
  throw new Error("expected a CairnError");
}

describe("applyConfigPatches: strategic merge", () => {
  it("merges objects recursively and leaves the base untouched", () => {
    const b = base();
    const before = structuredClone(b);
    const out = applyConfigPatches(b, ["machine:\n  hostname: node-2\n  time:\n    servers: [a.example]\n"]) as any;
    expect(out.machine.hostname).toBe("node-2");
    expect(out.machine.time.servers).toEqual(["a.example"]);
    expect(out.machine.kernel).toEqual(b.machine.kernel);
    expect(b).toEqual(before);
  });

  it("merges interfaces by name, else mac, and appends new ones", () => {
    const patch = [
      "machine:",
      "  network:",
      "    interfaces:",
      "      - name: eth0",
      "        mtu: 9000",
      '      - mac: "52:54:00:12:34:56"',
      "        dhcp: false",
      "      - name: eth2",
      "        dhcp: true",
    ].join("\n");
    const out = applyConfigPatches(base(), [patch]) as any;
    const ifs = out.machine.network.interfaces;
    expect(ifs).toHaveLength(3);
    expect(ifs[0]).toMatchObject({ name: "eth0", mtu: 9000, addresses: ["10.5.0.2/24"] });
    expect(ifs[1]).toEqual({ mac: "52:54:00:12:34:56", dhcp: false });
    expect(ifs[2]).toEqual({ name: "eth2", dhcp: true });
    expect(() => validateMachineConfig(out)).not.toThrow();
  });

  it("replaces lists without an identity key", () => {
    const out = applyConfigPatches(base(), ['{"machine": {"kernel": {"args": ["quiet"]}}}']) as any;
    expect(out.machine.kernel.args).toEqual(["quiet"]);
    expect(out.machine.kernel.modules).toEqual([{ name: "br_netfilter" }]);
  });

  it("deletes keys and keyed items with $patch: delete", () => {
    const patch = [
      "machine:",
      "  hostname:",
      "    $patch: delete",
      "  files:",
      "    - path: /etc/motd",
      "      $patch: delete",
      "  kernel:",
      "    modules:",
      "      - name: br_netfilter",
      "        $patch: delete",
      "      - name: not-loaded",
      "        $patch: delete",
    ].join("\n");
    const out = applyConfigPatches(base(), [patch]) as any;
    expect("hostname" in out.machine).toBe(false);
    expect(out.machine.files).toEqual([]);
    expect(out.machine.kernel.modules).toEqual([]);
    expect(JSON.stringify(out)).not.toContain("$patch");
  });

  it("rejects unknown $patch values with the field path", () => {
    const err = catchCairn(() => applyConfigPatches(base(), ["machine:\n  time:\n    $patch: replace\n"]));
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toMatch(/^patch 1 of 1: machine\.time\.\$patch: unsupported value "replace"/);
  });

  it("refuses prototype keys", () => {
    const err = catchCairn(() => applyConfigPatches(base(), ['{"machine": {"__proto__": {"polluted": true}}}']));
    expect(err.message).toContain("forbidden key");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("applyConfigPatches: RFC 6902", () => {
  it("applies operations in order", () => {
    const ops = JSON.stringify([
      { op: "test", path: "/machine/hostname", value: "node-1" },
      { op: "replace", path: "/machine/hostname", value: "node-3" },
      { op: "remove", path: "/machine/network/interfaces/1" },
    ]);
    const out = applyConfigPatches(base(), [ops]) as any;
    expect(out.machine.hostname).toBe("node-3");
    expect(out.machine.network.interfaces).toHaveLength(1);
  });

  it("accepts JSON Patch written in YAML", () => {
    const out = applyConfigPatches(base(), ["- op: add\n  path: /machine/kernel/args/-\n  value: quiet\n"]) as any;
    expect(out.machine.kernel.args).toEqual(["console=ttyS0", "quiet"]);
  });

  it("names the patch and the failing test operation, and keeps secrets out of the message", () => {
    const good = "machine:\n  hostname: node-2\n";
    const ops = JSON.stringify([
      { op: "replace", path: "/cluster/name", value: "x" },
      { op: "test", path: "/machine/hostname", value: "node-1" },
    ]);
    const err = catchCairn(() => applyConfigPatches(base(), [good, { name: "@guard.json", text: ops }], "--patch"));
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toMatch(/^--patch: patch 2 of 2 \(@guard\.json\): operation \[1\] \(test \/machine\/hostname\): /);
    expect(err.message).not.toContain("PRIVATE KEY");
    expect(err.cause).toBeUndefined();
  });

  it("validates operation shape", () => {
    const err = catchCairn(() => applyConfigPatches(base(), ['[{"op": "frobnicate", "path": "/x"}]']));
    expect(err.message).toMatch(/^patch 1 of 1: operation \[0\] \(frobnicate \/x\): /);
  });
});

describe("applyConfigPatches: bad patches", () => {
  it("reports YAML syntax errors with the patch and position", () => {
    const err = catchCairn(() => applyConfigPatches(base(), ["machine: [\n  a: 1\nx: y\n"]));
    expect(err.message).toMatch(/^patch 1 of 1: not valid YAML or JSON: line \d+:\d+: /);
  });

  it("rejects scalars and empty patches", () => {
    expect(catchCairn(() => applyConfigPatches(base(), ["42"])).message).toContain("got a number");
    expect(catchCairn(() => applyConfigPatches(base(), [""])).message).toContain("got an empty document");
  });
});

describe("loadPatchArg", () => {
  it("reads @file and passes inline text through", () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-patch-"));
    const file = join(dir, "p.yaml");
    writeFileSync(file, "machine:\n  hostname: x\n");
    expect(loadPatchArg(`@${file}`)).toBe("machine:\n  hostname: x\n");
    expect(readPatchArg(`@${file}`).name).toBe(`@${file}`);
    expect(loadPatchArg("machine: {}")).toBe("machine: {}");
  });

  it("names a missing file", () => {
    const err = catchCairn(() => loadPatchArg("@/nonexistent/cairn-patch.yaml"));
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toBe('patch file "/nonexistent/cairn-patch.yaml": no such file');
  });
});
