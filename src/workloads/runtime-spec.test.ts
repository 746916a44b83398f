import { describe, expect, it } from "vitest";
import { parseMachineConfig } from "../machinery/config/parse.js";
import { sampleConfigYaml } from "../machinery/config/testdata/sample.js";
import { workloadSpecsFromConfig } from "./from-config.js";
import { buildRuntimeSpec } from "./runtime-spec.js";

const image = {
  config: { Entrypoint: ["/bin/web"], Cmd: ["--help"], Env: ["PATH=/bin", "MODE=dev"], WorkingDir: "/srv" },
  rootfs: { type: "layers", diff_ids: [] },
};

describe("buildRuntimeSpec", () => {
  it("turns the sample config's workload into an OCI runtime spec", () => {
    const [web] = workloadSpecsFromConfig(parseMachineConfig(sampleConfigYaml).machine.workloads);
    const spec = buildRuntimeSpec(web!, image, { cgroupParent: "/cairn" }) as {
      process: { args: string[]; env: string[]; cwd: string; noNewPrivileges: boolean };
      root: { readonly: boolean };
      mounts: { destination: string; source: string; options: string[] }[];
      linux: { cgroupsPath: string; namespaces: { type: string }[]; resources: { memory: { limit: number }; cpu: { quota: number; period: number } } };
    };
    expect(spec.process.args).toEqual(["/bin/web", "serve", "--port", "8080"]);
    expect(spec.process.env).toEqual(["PATH=/bin", "MODE=prod"]);
    expect(spec.process.cwd).toBe("/srv");
    expect(spec.process.noNewPrivileges).toBe(true);
    expect(spec.root.readonly).toBe(true);
    expect(spec.mounts).toContainEqual({ destination: "/data", type: "bind", source: "/var/lib/web", options: ["rbind", "rw", "nosuid", "nodev"] });
    // Host network by default: no network namespace, but an own PID namespace.
    expect(spec.linux.namespaces.map((n) => n.type)).toEqual(["pid", "ipc", "uts", "mount"]);
    expect(spec.linux.resources.memory.limit).toBe(128 * 1024 * 1024);
    expect(spec.linux.resources.cpu).toEqual({ quota: 50_000, period: 100_000 });
    expect(spec.linux.cgroupsPath).toBe("/cairn/web");
  });

  it("refuses a mount source outside /var even if the schema was bypassed", () => {
    expect(() =>
      buildRuntimeSpec({ name: "x", image: "i", mounts: [{ source: "/var/../etc", destination: "/e" }] }, image, { cgroupParent: "/cairn" }),
    ).toThrow(/workload x: mounts\[0\].source must be under \/var/);
  });

  it("gives a private network namespace for network: none, and refuses named users", () => {
    const spec = buildRuntimeSpec({ name: "x", image: "i", network: "none" }, image, { cgroupParent: "/c" }) as { linux: { namespaces: { type: string }[] } };
    expect(spec.linux.namespaces.map((n) => n.type)).toContain("network");
    expect(() => buildRuntimeSpec({ name: "x", image: "i" }, { ...image, config: { ...image.config, User: "nobody" } }, { cgroupParent: "/c" })).toThrow(/named users are not supported/);
  });
});
