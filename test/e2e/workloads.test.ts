import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maintenanceChannelCredentials, writeGeneratedConfig } from "../../src/machinery/client/index.js";
import { findForbidden } from "../../src/image/forbidden-files.js";
import { containerdUnavailable, startRegistry, type Daemon } from "../integration/support/containerd.js";
import { buildBusyboxImage, ociArchive, pushImage } from "../integration/support/oci-image.js";
import { NodeFixture } from "./support/node-fixture.js";
import { e2eImage } from "./support/node-image.js";
import { nodectl, type NodectlRun } from "./support/node-nodectl.js";
import { pollFor } from "./support/poll.js";

// Workloads on ONE QEMU node (TCG): Debian's containerd and runc from the
// image, a registry on the host (the guest reaches the host's 127.0.0.1 as
// 10.0.2.2 under user networking), an OCI image around the host's
// busybox-static that the test builds itself. Config declares workloads,
// nodectl shows them; the image's root has no busybox and no shell.

const BOOT_MS = 240_000;
const skip = containerdUnavailable();

type Json = Record<string, any>;

describe.skipIf(skip !== undefined)(`workloads on a QEMU node (TCG)${skip ? ` (skipped: ${skip})` : ""}`, () => {
  const started = performance.now();
  const timings: Record<string, number> = {};
  const story = { configured: false, running: false };
  let fx: NodeFixture;
  let registry: Daemon & { url: string; host: string };
  let dir: string;
  let nodectlConfig: string;
  let base: Json;
  let image: string;
  let regHost: string;

  const ctl = (args: string[], timeoutMs = 90_000): Promise<NodectlRun> => nodectl(["-n", fx.endpoint, ...args], { config: nodectlConfig, timeoutMs });
  const containers = async (): Promise<Json[]> => {
    const r = await ctl(["-o", "json", "containers"]);
    expect(r.code, r.transcript).toBe(0);
    return (JSON.parse(r.stdout) as Json[])[0]!["containers"] as Json[];
  };
  const workload = async (name: string): Promise<Json | undefined> => (await containers()).find((w) => w["name"] === name);
  const events = async (): Promise<Json[]> => {
    const r = await ctl(["-o", "json", "events", "--tail", "1000"]);
    expect(r.code, r.transcript).toBe(0);
    return r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Json);
  };
  const logs = async (name: string): Promise<string> => {
    const r = await ctl(["logs", name]);
    expect(r.code, r.transcript).toBe(0);
    return r.stdout;
  };
  const hello = (who: string): Json => ({
    name: "hello",
    image,
    args: [
      "sh",
      "-c",
      "echo hello from $WHO; ps -o pid,comm; touch /probe 2>/dev/null && echo rootfs-writable || echo rootfs-readonly; " +
        "i=0; while true; do if [ -e /trigger/crash ]; then rm /trigger/crash; echo crashing; exit 3; fi; i=$((i+1)); echo tick $i; sleep 2; done",
    ],
    env: { WHO: who },
    mounts: [{ source: "/var/lib/e2e-wl", destination: "/trigger" }],
    readOnlyRootfs: true,
    restart: "always",
  });
  /** Writes a config with these workloads (and files) and applies it live. */
  const applyWith = async (name: string, workloads: Json[], files: Json[] = []): Promise<void> => {
    const cfg = structuredClone(base);
    cfg["machine"]["workloads"] = workloads;
    cfg["machine"]["registries"] = { [regHost]: { endpoint: `http://${regHost}` } };
    // The bind-mount source must exist: the files controller creates the directory with its first file.
    cfg["machine"]["files"] = [{ path: "/var/lib/e2e-wl/readme", content: "trigger directory\n", mode: 0o644 }, ...files];
    const path = join(dir, `${name}.yaml`);
    writeFileSync(path, stringify(cfg));
    const r = await ctl(["apply-config", "-f", path, "--mode", "no-reboot"]);
    expect(r.code, r.transcript).toBe(0);
  };

  beforeAll(async () => {
    const { image: img } = e2eImage();
    dir = mkdtempSync(join(tmpdir(), "cairn-e2e-wl-"));
    registry = await startRegistry(join(dir, "registry"));
    regHost = `10.0.2.2:${registry.host.split(":")[1]}`;
    image = `${regHost}/cairn/busybox:e2e`;
    await pushImage(registry.url, "cairn/busybox", "e2e", await buildBusyboxImage(image, "e2e"));
    fx = await NodeFixture.launch({ name: "workloads", baseImage: img.raw, memoryMiB: 1024 });
    const paths = await writeGeneratedConfig(dir, "e2e-wl", { endpoints: [fx.endpoint] });
    nodectlConfig = paths.nodectlConfigPath;
    base = parse(readFileSync(paths.nodeConfigPath, "utf8")) as Json;
    base["machine"]["hostname"] = "wl-node";
  });

  afterAll(async () => {
    await fx?.dispose(resolve("dist/e2e/workloads.console.log"));
    await registry?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    timings["whole file"] = (performance.now() - started) / 1000;
    console.log(`workloads timings (TCG):\n${Object.entries(timings).map(([k, s]) => `  ${k.padEnd(44)} ${s.toFixed(1).padStart(6)} s`).join("\n")}`);
  });

  it("boots, runs containerd as a service, and runs the workload its config declares: pulled from the host registry, logs through nodectl", async () => {
    await fx.withConsole(async () => {
      const boot = await fx.pollVersion("maintenance API", () => maintenanceChannelCredentials(), (v) => v.maintenance, { budgetMs: BOOT_MS, since: fx.launchedAt });
      timings["launch → maintenance API"] = boot.seconds;
      const cfg = structuredClone(base);
      cfg["machine"]["workloads"] = [hello("e2e")];
      cfg["machine"]["registries"] = { [regHost]: { endpoint: `http://${regHost}` } };
      cfg["machine"]["files"] = [{ path: "/var/lib/e2e-wl/readme", content: "trigger directory\n", mode: 0o644 }];
      const first = join(dir, "first.yaml");
      writeFileSync(first, stringify(cfg));
      const t0 = performance.now();
      const applied = await nodectl(["apply-config", "--insecure", "-n", fx.endpoint, "-f", first], { timeoutMs: 90_000 });
      expect(applied.code, applied.transcript).toBe(0);
      story.configured = true;
      const svc = await pollFor("containerd running", () => ctl(["services"]), (r) => /containerd\s+Running\s+ok/.test(r.stdout), 120_000);
      timings["config applied → containerd running"] = (performance.now() - t0) / 1000;
      expect(svc.stdout).toMatch(/containerd\s+Running\s+ok/);
      const w = await pollFor("hello running", () => workload("hello"), (x) => x?.["state"] === "running", 180_000);
      timings["config applied → hello running (pull+unpack)"] = (performance.now() - t0) / 1000;
      expect(w).toMatchObject({ image, restarts: 0 });
      story.running = true;
      const out = await pollFor("hello's output", () => logs("hello"), (o) => o.includes("tick 1"), 60_000);
      expect(out).toContain("hello from e2e");
      const table = await ctl(["containers"]);
      expect(table.stdout, table.transcript).toMatch(/hello\s+\S+busybox:e2e\s+running/);
    });
  });

  it("cannot see the node's processes (own PID namespace) and cannot write its root file system", async () => {
    expect(story.running, "needs the running workload").toBe(true);
    const out = await logs("hello");
    expect(out).toContain("rootfs-readonly");
    const psLines = out.split("\n").filter((l) => /^\s*\d+\s+\S+$/.test(l));
    expect(psLines.some((l) => /^\s*1\s+sh$/.test(l)), out).toBe(true);
    // Only the shell and ps itself: not machined, containerd or the shim.
    expect(psLines.length, out).toBeLessThanOrEqual(3);
    expect(out).not.toMatch(/node|containerd/);
    // The node itself sees the workload among its processes, under the shim.
    const ps = await ctl(["-o", "json", "ps"]);
    expect(ps.stdout, ps.transcript).toMatch(/containerd-shim-runc-v2/);
  });

  it("nodectl logs -f streams new lines as the workload writes them", async () => {
    expect(story.running, "needs the running workload").toBe(true);
    const child = spawn(process.execPath, [resolve("bin/nodectl.js"), "-n", fx.endpoint, "logs", "hello", "-f", "--tail", "1"], { env: { ...process.env, NODECTL_CONFIG: nodectlConfig } });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    try {
      const ticks = await pollFor("two ticks on the followed stream", async () => [...out.matchAll(/tick (\d+)/g)].map((m) => Number(m[1])), (t) => t.length >= 3, 60_000);
      // Lines keep arriving in order while the stream is open.
      expect(ticks[2]! - ticks[0]!).toBe(2);
    } finally {
      child.kill("SIGINT");
    }
  });

  it("restarting containerd leaves the workload running: the node re-attaches to the same task and its output goes on", async () => {
    expect(story.running, "needs the running workload").toBe(true);
    await fx.withConsole(async () => {
      const containerd = async (): Promise<Json> => {
        const r = await ctl(["-o", "json", "services"]);
        expect(r.code, r.transcript).toBe(0);
        return ((JSON.parse(r.stdout) as Json[])[0]!["services"] as Json[]).find((x) => x["id"] === "containerd")!;
      };
      const before = { hello: (await workload("hello"))!, containerd: await containerd() };
      const ticksBefore = (await logs("hello")).match(/tick \d+/g)?.length ?? 0;
      const t0 = performance.now();
      const r = await ctl(["service", "containerd", "restart"]);
      expect(r.code, r.transcript).toBe(0);
      const back = await pollFor("containerd running again", containerd, (c) => c["state"] === "Running" && c["pid"] !== before.containerd["pid"], 90_000);
      expect(Number(back["restarts"])).toBe(Number(before.containerd["restarts"] ?? 0) + 1);
      const hello = (await pollFor("hello re-attached", () => workload("hello"), (w) => w?.["state"] === "running" && (w["message"] ?? "") === "", 60_000))!;
      timings["containerd restart → re-attached"] = (performance.now() - t0) / 1000;
      // The same task (pid) was never stopped or restarted.
      expect(hello).toMatchObject({ pid: before.hello["pid"], restarts: before.hello["restarts"] });
      const evs = (await events()).filter((e) => e["fields"]?.["workload"] === "hello");
      expect(evs).toContainEqual(expect.objectContaining({ type: "workload.detached" }));
      expect(evs).toContainEqual(expect.objectContaining({ type: "workload.reattached", fields: expect.objectContaining({ pid: String(before.hello["pid"]) }) }));
      // Its output still reaches the log system through the fifos the shim kept open.
      await pollFor("new ticks after the re-attach", async () => (await logs("hello")).match(/tick \d+/g)?.length ?? 0, (n) => n >= ticksBefore + 2, 60_000);
    });
  });

  it("a workload that dies is restarted per policy (always); changing its env recreates it", async () => {
    expect(story.running, "needs the running workload").toBe(true);
    await fx.withConsole(async () => {
      const before = (await workload("hello"))!;
      // The trigger file (a machine.files change, not a workload change) makes the workload exit with status 3.
      // After the containerd restart above, this exit is seen by the re-attached watch.
      await applyWith("crash", [hello("e2e")], [{ path: "/var/lib/e2e-wl/crash", content: "now\n", mode: 0o644 }]);
      const after = (await pollFor("hello restarted", () => workload("hello"), (x) => x?.["restarts"] === 1 && x?.["state"] === "running", 60_000))!;
      expect(after["lastExitStatus"]).toBe(3);
      expect(after["pid"]).not.toBe(before["pid"]);
      const evs = await events();
      expect(evs).toContainEqual(expect.objectContaining({ type: "workload.exited", fields: expect.objectContaining({ workload: "hello", exitStatus: "3" }) }));
      expect(evs.map((e) => e["type"])).toContain("workload.restarting");

      const t0 = performance.now();
      await applyWith("env", [hello("changed")]);
      await pollFor("new env in output", () => logs("hello"), (o) => o.includes("hello from changed"), 90_000);
      timings["env change → new output"] = (performance.now() - t0) / 1000;
      expect((await events()).map((e) => e["type"])).toContain("workload.recreating");
      expect(await workload("hello")).toMatchObject({ state: "running", restarts: 0 });
    });
  });

  it("enforces a memory limit: an allocation past it is OOM-killed, events say so, and a killed on-failure workload is restarted", async () => {
    expect(story.running, "needs the running workload").toBe(true);
    await fx.withConsole(async () => {
      const hog = {
        name: "hog",
        image,
        // dd's buffer is one 64 MiB allocation: twice the limit.
        args: ["sh", "-c", "echo allocating; exec dd if=/dev/zero of=/dev/null bs=64M count=1"],
        restart: "never",
        resources: { memory: "32Mi" },
      };
      // The same allocation under `on-failure`: the kernel's SIGKILL of the workload's process is a failure, so it is restarted.
      const hogAgain = { ...hog, name: "hog-again", restart: "on-failure" };
      await applyWith("hog", [hello("changed"), hog, hogAgain]);
      const w = await pollFor("hog exited", () => workload("hog"), (x) => x?.["state"] === "exited", 120_000);
      expect(w).toMatchObject({ lastExitStatus: 137, lastOomKilled: true, restarts: 0 });
      const again = await pollFor("hog-again killed and restarted", () => workload("hog-again"), (x) => Number(x?.["restarts"] ?? 0) >= 1, 120_000);
      expect(again).toMatchObject({ lastExitStatus: 137, lastOomKilled: true });
      const evs = await events();
      expect(evs).toContainEqual(expect.objectContaining({ type: "workload.oom", fields: expect.objectContaining({ workload: "hog" }) }));
      expect(evs).toContainEqual(expect.objectContaining({ type: "workload.exited", fields: expect.objectContaining({ workload: "hog", exitStatus: "137", oomKilled: "true" }) }));
      expect(evs).toContainEqual(expect.objectContaining({ type: "workload.restarting", fields: expect.objectContaining({ workload: "hog-again" }) }));
      const out = await logs("hog");
      expect(out).toContain("allocating");
      expect(out).not.toMatch(/records out/);
    });
  });

  it("holds a busy loop to its cpu limit on cgroup v2 (measured from the workload's cgroup on the node)", async () => {
    expect(story.running, "needs the running workload").toBe(true);
    await fx.withConsole(async () => {
      const spin = { name: "spin", image, args: ["sh", "-c", "echo spinning; while :; do :; done"], restart: "never", resources: { cpu: 0.2 } };
      await applyWith("spin", [hello("changed"), spin]);
      await pollFor("spin running", () => workload("spin"), (x) => x?.["state"] === "running", 120_000);
      const stat = async (): Promise<{ at: number; usageUs: number; throttled: number }> => {
        const r = await ctl(["read", "/sys/fs/cgroup/cairn/spin/cpu.stat"]);
        expect(r.code, r.transcript).toBe(0);
        const key = (k: string): number => Number(new RegExp(`^${k} (\\d+)$`, "m").exec(r.stdout)?.[1]);
        return { at: performance.now(), usageUs: key("usage_usec"), throttled: key("nr_throttled") };
      };
      expect((await ctl(["read", "/sys/fs/cgroup/cairn/spin/cpu.max"])).stdout.trim()).toBe("20000 100000");
      const a = await stat();
      await new Promise((r) => setTimeout(r, 10_000));
      const b = await stat();
      // Host-side timing brackets the node's by an RPC's latency either way: over 10 s that moves the share by a few percent.
      const share = (b.usageUs - a.usageUs) / 1e6 / ((b.at - a.at) / 1000);
      console.log(`spin under cpu 0.2 (cgroup v2, TCG): ${share.toFixed(3)} of a core over ${((b.at - a.at) / 1000).toFixed(1)} s, ${b.throttled - a.throttled} periods throttled`);
      expect(share).toBeLessThan(0.25);
      expect(share).toBeGreaterThan(0.05);
      expect(b.throttled).toBeGreaterThan(a.throttled);
      await applyWith("spin-gone", [hello("changed")]);
      await pollFor("spin removed", () => workload("spin"), (x) => x === undefined, 60_000);
    });
  });

  it("removing workloads from the config stops and removes them", async () => {
    expect(story.running, "needs the running workload").toBe(true);
    await fx.withConsole(async () => {
      await applyWith("none", []);
      await pollFor("no workloads", () => containers(), (c) => c.length === 0, 90_000);
      const removed = (await events()).filter((e) => e["type"] === "workload.removed").map((e) => e["fields"]["workload"]);
      expect(removed).toEqual(expect.arrayContaining(["hello", "hog", "hog-again"]));
      const ps = await ctl(["-o", "json", "ps"]);
      expect(ps.stdout, ps.transcript).not.toMatch(/containerd-shim-runc-v2/);
    });
  });

  it("runs an image imported through the API with no registry reachable", async () => {
    expect(story.configured, "needs the configured node").toBe(true);
    await fx.withConsole(async () => {
      await registry.stop();
      const name = "import.local/cairn/busybox:offline";
      const archive = join(dir, "offline.tar");
      writeFileSync(archive, await ociArchive(await buildBusyboxImage(name, "offline")));
      const imp = await ctl(["image", "import", archive], 180_000);
      expect(imp.code, imp.transcript).toBe(0);
      expect(imp.stdout).toContain(`imported ${name}`);
      const list = await ctl(["image", "list"]);
      expect(list.stdout, list.transcript).toContain(name);
      await applyWith("offline", [{ name: "offline", image: name, args: ["sh", "-c", "echo offline ok"], restart: "on-failure" }]);
      await pollFor("offline output", () => logs("offline"), (o) => o.includes("offline ok"), 90_000);
      const w = await pollFor("offline exited 0", () => workload("offline"), (x) => x?.["state"] === "exited", 30_000);
      expect(w).toMatchObject({ lastExitStatus: 0, restarts: 0 });
    });
  });

  it("has no shell and no busybox outside containers", async () => {
    expect(story.configured, "needs the configured node").toBe(true);
    const files = await ctl(["-o", "json", "ls", "-r", "/usr"], 120_000);
    expect(files.code, files.transcript).toBe(0);
    const paths = ((JSON.parse(files.stdout) as Json[])[0]!["files"] as Json[]).map((f) => String(f["path"]));
    expect(paths).toContain("/usr/bin/containerd");
    expect(paths).toContain("/usr/sbin/runc");
    expect(findForbidden(paths)).toEqual([]);
    for (const d of ["/bin", "/sbin"]) {
      const r = await ctl(["-o", "json", "ls", d]);
      const names = r.code === 0 ? ((JSON.parse(r.stdout) as Json[])[0]!["files"] as Json[]).map((f) => String(f["path"])) : [];
      expect(findForbidden(names), r.transcript).toEqual([]);
    }
  });

  it("a reboot stops the workloads before /var is unmounted, and they run again after the boot", async () => {
    expect(story.configured, "needs the configured node").toBe(true);
    await fx.withConsole(async () => {
      // The imported image: the registry is gone, the image survives the reboot on /var.
      await applyWith("reboot", [{ name: "steady", image: "import.local/cairn/busybox:offline", args: ["sh", "-c", "echo steady up; exec sleep 3600"], restart: "always" }]);
      await pollFor("steady running", () => workload("steady"), (x) => x?.["state"] === "running", 90_000);
      const consoleBefore = fx.node.consoleText().length;
      const t0 = performance.now();
      const r = await ctl(["reboot", "--wait", "--timeout", "240s"], 300_000);
      expect(r.code, r.transcript).toBe(0);
      timings["reboot with a workload → API back"] = (performance.now() - t0) / 1000;
      const shutdown = fx.node.consoleText().slice(consoleBefore);
      expect(shutdown).toMatch(/workloads stopped before shutdown/);
      expect(shutdown).toMatch(/power action: syncing and unmounting/);
      // Every unmount succeeded (measured: also so before workloads were stopped at shutdown; a regression guard).
      expect(shutdown).not.toMatch(/unmount failed at shutdown/);
      const w = await pollFor("steady running after the reboot", () => workload("steady"), (x) => x?.["state"] === "running", 120_000);
      expect(w).toMatchObject({ restarts: 0 });
      expect(await logs("steady")).toContain("steady up");
    });
  });
});
