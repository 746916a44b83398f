import { existsSync, readdirSync, readFileSync, mkdtempSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeFifo } from "../../src/platform/linux/fifo.js";
import { ContainerdClient } from "../../src/workloads/containerd/client.js";
import { WorkloadController } from "../../src/workloads/controller.js";
import { importOciArchive } from "../../src/workloads/image-import.js";
import { FifoLogSink } from "../../src/workloads/log-sink.js";
import type { WorkloadEvent } from "../../src/workloads/workload-events.js";
import type { WorkloadSpec } from "../../src/workloads/workload-spec.js";
import { containerdUnavailable, killShims, startContainerd, startRegistry, type Daemon } from "./support/containerd.js";
import { buildBusyboxImage, ociArchive, pushImage } from "./support/oci-image.js";
import { pollUntil } from "./support/poll.js";

const skip = containerdUnavailable();
const cgroupParent = `/cairn-test-${process.pid}`;

/** CPU time and throttled periods of one cgroup, on a cgroup v1 host (cpu,cpuacct) or v2 (unified). */
function cpuUsageSeconds(path: string): { seconds(): number; throttled(): number } {
  const v2 = `/sys/fs/cgroup/${path}/cpu.stat`;
  const stat = (file: string, key: string): number => Number(new RegExp(`^${key} (\\d+)$`, "m").exec(readFileSync(file, "utf8"))?.[1] ?? NaN);
  if (existsSync(v2)) return { seconds: () => stat(v2, "usage_usec") / 1e6, throttled: () => stat(v2, "nr_throttled") };
  return {
    seconds: () => Number(readFileSync(`/sys/fs/cgroup/cpuacct/${path}/cpuacct.usage`, "utf8")) / 1e9,
    throttled: () => stat(`/sys/fs/cgroup/cpu/${path}/cpu.stat`, "nr_throttled"),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Workloads through a real containerd 1.6 + runc (Debian's), images from a real registry.
describe.skipIf(skip !== undefined)(`workloads on containerd${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let dir: string;
  let containerd: Daemon & { socket: string };
  let registry: Daemon & { url: string; host: string };
  let ctd: ContainerdClient;
  let controller: WorkloadController;
  let image: string;
  const lines: { workload: string; stream: string; line: string }[] = [];
  const events: WorkloadEvent[] = [];
  const logOf = (w: string): string => lines.filter((l) => l.workload === w).map((l) => l.line).join("\n");
  const statusOf = (w: string) => controller.status().find((s) => s.name === w);
  const describeState = (): string =>
    `events: ${JSON.stringify(events.slice(-15))}\nstatus: ${JSON.stringify(controller.status())}\nlogs:\n${lines.slice(-20).map((l) => `${l.workload} ${l.stream}: ${l.line}`).join("\n")}\ncontainerd:\n${containerd.output().slice(-3000)}`;

  const hello = (who: string): WorkloadSpec => ({
    name: "hello",
    image,
    args: ["sh", "-c", "echo hello from $WHO; ps -o pid,comm; touch /probe 2>/dev/null && echo rootfs-writable || echo rootfs-readonly; exec sleep 3600"],
    env: { WHO: who },
    readOnlyRootfs: true,
    restart: "always",
  });

  const newController = (): WorkloadController => {
    const c = new WorkloadController({
      ctd,
      logs: new FifoLogSink(join(dir, "logs"), (p) => makeFifo(p), (workload, stream, line) => lines.push({ workload, stream, line })),
      registries: { [registry.host]: { endpoint: registry.url } },
      cgroupParent,
      stopTimeoutMs: 1_000,
      initialBackoffMs: 200,
      onEvent: (e) => events.push(e),
    });
    c.start();
    return c;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "cairn-wl-run-"));
    containerd = await startContainerd(join(dir, "containerd"));
    registry = await startRegistry(join(dir, "registry"));
    image = `${registry.host}/cairn/busybox:run`;
    await pushImage(registry.url, "cairn/busybox", "run", await buildBusyboxImage(image));
    ctd = new ContainerdClient({ socketPath: containerd.socket, namespace: `cairn-test-${process.pid}` });
    controller = newController();
  });

  afterAll(async () => {
    if (controller) await controller.apply([]).catch(() => undefined);
    controller?.close();
    ctd?.close();
    await registry?.stop();
    await containerd?.stop();
    // Shims outlive containerd; ours name our socket on their command line.
    if (containerd) killShims(containerd.socket);
    if (dir) rmSync(dir, { recursive: true, force: true });
    // runc removes each workload's cgroup, not the (now empty) parent: v1 hierarchies and v2 alike.
    for (const h of ["", ...readdirSync("/sys/fs/cgroup")]) {
      try {
        rmdirSync(join("/sys/fs/cgroup", h, cgroupParent));
      } catch {
        // not in this hierarchy
      }
    }
  });

  it("pulls the image and runs the workload: its output reaches the log sink, own PID namespace, read-only root", async () => {
    const r = await controller.apply([hello("cairn")]);
    expect(r.errors).toEqual([]);
    await pollUntil("hello's output", async () => (logOf("hello").includes("rootfs-") ? true : undefined), { timeoutMs: 30_000, describe: describeState });
    const out = logOf("hello");
    expect(out).toContain("hello from cairn");
    expect(out).toContain("rootfs-readonly");
    // ps inside sees only the container's processes: itself and PID 1, the shell.
    const psLines = out.split("\n").filter((l) => /^\s*\d+\s/.test(l));
    expect(psLines.length).toBeLessThanOrEqual(3);
    expect(psLines.some((l) => /^\s*1\s+sh$/.test(l))).toBe(true);
    expect(statusOf("hello")).toMatchObject({ state: "running", restarts: 0 });
    expect(alive(statusOf("hello")!.pid!)).toBe(true);
  });

  it("restarts the workload when its process is killed (restart: always)", async () => {
    const pid = statusOf("hello")!.pid!;
    process.kill(pid, "SIGKILL");
    const s = await pollUntil(
      "hello restarted",
      async () => {
        const st = statusOf("hello");
        return st && st.state === "running" && st.restarts === 1 && st.pid !== pid ? st : undefined;
      },
      { timeoutMs: 30_000, describe: describeState },
    );
    expect(s.lastExitStatus).toBe(137);
    expect(events).toContainEqual(expect.objectContaining({ workload: "hello", type: "exited", exitStatus: 137, oomKilled: false }));
    expect(alive(pid)).toBe(false);
  });

  it("recreates the workload when its env changes", async () => {
    const before = (await ctd.call(ctd.containers.get.bind(ctd.containers), { id: "hello" }, "get")).container!;
    const r = await controller.apply([hello("changed")]);
    expect(r.errors).toEqual([]);
    await pollUntil("new env in output", async () => (logOf("hello").includes("hello from changed") ? true : undefined), { timeoutMs: 30_000, describe: describeState });
    const after = (await ctd.call(ctd.containers.get.bind(ctd.containers), { id: "hello" }, "get")).container!;
    expect(after.labels["io.cairn.workload.spec-hash"]).not.toBe(before.labels["io.cairn.workload.spec-hash"]);
    expect(events).toContainEqual({ workload: "hello", type: "recreating" });
    expect(statusOf("hello")).toMatchObject({ state: "running", restarts: 0 });
  });

  it("a new controller (machined restarted) adopts the running workload instead of recreating it", async () => {
    const before = statusOf("hello")!;
    const getHello = async () => (await ctd.call(ctd.containers.get.bind(ctd.containers), { id: "hello" }, "get")).container!;
    const createdAt = (await getHello()).createdAt;
    controller.close();
    controller = newController();
    expect((await controller.apply([hello("changed")])).errors).toEqual([]);
    expect(statusOf("hello")).toMatchObject({ state: "running", pid: before.pid });
    expect((await getHello()).createdAt).toEqual(createdAt);
    expect(alive(before.pid!)).toBe(true);
  });

  it("a containerd crash does not stop workloads: once it is back the controller re-attaches, output still flows, exits are still handled", async () => {
    const ticker: WorkloadSpec = { name: "ticker", image, args: ["sh", "-c", "n=0; while true; do echo tick $n; n=$((n+1)); sleep 0.3; done"], restart: "always" };
    expect((await controller.apply([hello("changed"), ticker])).errors).toEqual([]);
    await pollUntil("ticker output", async () => (logOf("ticker").includes("tick 2") ? true : undefined), { timeoutMs: 30_000, describe: describeState });
    const before = { hello: statusOf("hello")!.pid!, ticker: statusOf("ticker")!.pid! };
    await containerd.crash();
    await pollUntil("both detached", async () => (["hello", "ticker"].every((w) => statusOf(w)?.state === "unknown") ? true : undefined), { timeoutMs: 10_000, describe: describeState });
    expect(events).toContainEqual(expect.objectContaining({ workload: "ticker", type: "detached", message: expect.stringMatching(/lost containerd/) }));
    // The shims keep the tasks running with no containerd at all.
    expect(alive(before.hello) && alive(before.ticker)).toBe(true);
    const ticksWhileDown = logOf("ticker").split("\n").length;
    containerd = await startContainerd(join(dir, "containerd"));
    await pollUntil("both re-attached", async () => (["hello", "ticker"].every((w) => statusOf(w)?.state === "running") ? true : undefined), { timeoutMs: 30_000, describe: describeState });
    expect(statusOf("hello")).toMatchObject({ pid: before.hello, restarts: 0 });
    expect(statusOf("ticker")).toMatchObject({ pid: before.ticker, restarts: 0 });
    expect(events).toContainEqual({ workload: "ticker", type: "reattached", pid: before.ticker });
    // Output of the re-attached run still reaches the log sink (no line lost: the counter runs on).
    await pollUntil("ticks after re-attach", async () => (logOf("ticker").split("\n").length > ticksWhileDown + 3 ? true : undefined), { timeoutMs: 15_000, describe: describeState });
    const ticks = logOf("ticker").split("\n").map((l) => Number(/^tick (\d+)$/.exec(l)?.[1]));
    expect(ticks).toEqual(ticks.map((_, i) => i));
    // The re-attached watch still sees an exit and restarts per policy.
    process.kill(before.ticker, "SIGKILL");
    const s = await pollUntil(
      "ticker restarted after the re-attach",
      async () => {
        const st = statusOf("ticker");
        return st && st.state === "running" && st.restarts === 1 && st.pid !== before.ticker ? st : undefined;
      },
      { timeoutMs: 30_000, describe: describeState },
    );
    expect(s.lastExitStatus).toBe(137);
    expect(statusOf("hello")).toMatchObject({ state: "running", pid: before.hello });
  });

  it("enforces a memory limit: an allocation past it is OOM-killed and reported", async () => {
    const hog: WorkloadSpec = {
      name: "hog",
      image,
      // dd's buffer is one 64 MiB allocation, filled by read(): twice the limit.
      args: ["sh", "-c", "echo allocating; exec dd if=/dev/zero of=/dev/null bs=64M count=1"],
      restart: "never",
      resources: { memoryBytes: 32 * 1024 * 1024, cpu: 0.5 },
    };
    const r = await controller.apply([hello("changed"), hog]);
    expect(r.errors).toEqual([]);
    const exited = await pollUntil(
      "hog exited",
      async () => events.find((e) => e.workload === "hog" && e.type === "exited"),
      { timeoutMs: 30_000, describe: describeState },
    );
    expect(exited).toMatchObject({ exitStatus: 137, oomKilled: true });
    expect(events).toContainEqual({ workload: "hog", type: "oom" });
    expect(logOf("hog")).toContain("allocating");
    expect(logOf("hog")).not.toMatch(/records out/);
    // restart: never leaves it exited.
    expect(statusOf("hog")).toMatchObject({ state: "exited", lastOomKilled: true, restarts: 0 });
  });

  it("network none leaves only loopback; a cpu limit of 0.2 holds a busy loop to a fifth of a core (measured from its cgroup)", async () => {
    const boxed: WorkloadSpec = {
      name: "boxed",
      image,
      args: ["sh", "-c", "echo netdevs $(ls /sys/class/net); grep -c : /proc/net/dev; while :; do :; done"],
      network: "none",
      restart: "never",
      resources: { cpu: 0.2 },
    };
    expect((await controller.apply([hello("changed"), boxed])).errors).toEqual([]);
    await pollUntil("boxed output", async () => (/netdevs/.test(logOf("boxed")) ? true : undefined), { timeoutMs: 30_000, describe: describeState });
    expect(logOf("boxed")).toMatch(/^netdevs lo$/m);
    const usage = cpuUsageSeconds(`${cgroupParent}/boxed`);
    const t0 = performance.now();
    const u0 = usage.seconds();
    await new Promise((r) => setTimeout(r, 3_000));
    const share = (usage.seconds() - u0) / ((performance.now() - t0) / 1000);
    console.log(`boxed busy loop under cpu 0.2: ${share.toFixed(3)} of a core, throttled ${usage.throttled()} periods`);
    expect(share).toBeLessThan(0.25);
    expect(share).toBeGreaterThan(0.05);
    expect(usage.throttled()).toBeGreaterThan(0);
    expect((await controller.apply([hello("changed")])).errors).toEqual([]);
  });

  it("stops and removes workloads no longer declared", async () => {
    const pid = statusOf("hello")!.pid!;
    const r = await controller.apply([]);
    expect(r.errors).toEqual([]);
    expect(controller.status()).toEqual([]);
    const { containers } = await ctd.call(ctd.containers.list.bind(ctd.containers), { filters: [] }, "list");
    expect(containers).toEqual([]);
    expect(alive(pid)).toBe(false);
    expect(events).toContainEqual({ workload: "hello", type: "removed" });
    expect(events).toContainEqual({ workload: "hog", type: "removed" });
    expect(events).toContainEqual({ workload: "ticker", type: "removed" });
    expect(events).toContainEqual({ workload: "boxed", type: "removed" });
  });

  it("runs an image imported from an OCI archive with the registry stopped", async () => {
    await registry.stop();
    const img = await buildBusyboxImage("cairn.test/offline/busybox:1", "offline");
    expect(await importOciArchive(ctd, Readable.from(await ociArchive(img)))).toEqual(["cairn.test/offline/busybox:1"]);
    const r = await controller.apply([
      { name: "offline", image: "cairn.test/offline/busybox:1", args: ["sh", "-c", "echo offline marker $CAIRN_TEST_MARKER; cat /etc/cairn-test"], restart: "on-failure" },
    ]);
    expect(r.errors).toEqual([]);
    const exited = await pollUntil("offline exited", async () => events.find((e) => e.workload === "offline" && e.type === "exited"), {
      timeoutMs: 30_000,
      describe: describeState,
    });
    expect(exited).toMatchObject({ exitStatus: 0 });
    expect(logOf("offline")).toContain("offline marker offline");
    // on-failure with exit 0: not restarted.
    expect(statusOf("offline")).toMatchObject({ state: "exited", restarts: 0 });
    expect((await controller.apply([])).errors).toEqual([]);
  });
});
