import { describe, expect, it } from "vitest";
import { CairnError } from "../../errors/index.js";
import { classifyDeltas } from "./classify.js";
import { diffConfigs } from "./diff.js";
import { parseMachineConfig } from "./parse.js";
import { sampleConfigYaml } from "./testdata/sample.js";
import { memoryBytes } from "./workloads-schema.js";

function details(yaml: string): { path: string; message: string }[] {
  try {
    parseMachineConfig(yaml);
  } catch (e) {
    expect(e).toBeInstanceOf(CairnError);
    return [...(e as CairnError).details];
  }
  throw new Error("expected the config to be rejected");
}

describe("machine.workloads and machine.registries", () => {
  it("parses the sample's workload with defaults filled", () => {
    const cfg = parseMachineConfig(sampleConfigYaml);
    expect(cfg.machine.workloads).toEqual([
      {
        name: "web",
        image: "registry.example:5000/team/web:1.0",
        args: ["serve", "--port", "8080"],
        env: { MODE: "prod" },
        mounts: [{ source: "/var/lib/web", destination: "/data", readOnly: false }],
        restart: "always",
        resources: { cpu: 0.5, memory: "128Mi" },
        network: "host",
        readOnlyRootfs: true,
      },
    ]);
    expect(cfg.machine.registries["registry.example:5000"]).toMatchObject({ username: "puller" });
  });

  it("names each bad workload field by its path", () => {
    const bad = sampleConfigYaml
      .replace("image: registry.example:5000/team/web:1.0", "image: registry.example:5000/Team/web")
      .replace("source: /var/lib/web", "source: /etc/shadow")
      .replace("memory: 128Mi", "memory: lots")
      .replace("readOnlyRootfs: true", "readOnlyRootfs: true\n      restart: sometimes");
    expect(details(bad).map((d) => d.path).sort()).toEqual([
      "machine.workloads[0].image",
      "machine.workloads[0].mounts[0].source",
      "machine.workloads[0].resources.memory",
      "machine.workloads[0].restart",
    ]);
    expect(details(bad).find((d) => d.path === "machine.workloads[0].image")?.message).toMatch(/invalid repository name/);
  });

  it("refuses '..' out of /var, duplicate names and a password without a username", () => {
    const dotdot = sampleConfigYaml.replace("source: /var/lib/web", "source: /var/../etc");
    expect(details(dotdot)).toEqual([{ path: "machine.workloads[0].mounts[0].source", message: "must not contain '..'" }]);
    const twice = sampleConfigYaml.replace("  registries:", "    - name: web\n      image: busybox\n  registries:");
    expect(details(twice)).toEqual([{ path: "machine.workloads[1].name", message: 'duplicate name "web", also at [0]' }]);
    const nouser = sampleConfigYaml.replace("      username: puller\n", "");
    expect(details(nouser)).toEqual([{ path: 'machine.registries["registry.example:5000"].password', message: "password needs a username" }]);
  });

  it("applies workload and registry changes live", () => {
    const before = parseMachineConfig(sampleConfigYaml);
    const after = parseMachineConfig(sampleConfigYaml.replace("MODE: prod", "MODE: test").replace("username: puller", "username: other"));
    const classified = classifyDeltas(diffConfigs(before, after));
    expect(classified.length).toBeGreaterThan(0);
    expect(classified.every((c) => !c.needsReboot)).toBe(true);
    expect(classified.map((c) => c.path).join(" ")).toMatch(/machine\.workloads\[web\]/);
  });

  it("reads memory quantities", () => {
    expect(memoryBytes("64Mi")).toBe(64 * 1024 * 1024);
    expect(memoryBytes("1G")).toBe(1e9);
    expect(memoryBytes("4096")).toBe(4096);
  });
});
