import { mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processContainerHost } from "../../src/platform/process/process-container-host.js";
import { containerdUnavailable, startContainerd, startRegistry, type Daemon } from "./support/containerd.js";
import { buildBusyboxImage, pushImage } from "./support/oci-image.js";
import { TestCluster, pollUntil, startNode, stopAllNodes, type ConfigDoc, type NodeProcess } from "./support/index.js";

const skip = containerdUnavailable();

/** PIDs of processes whose command line mentions `needle` (the shims of our containerd only). */
function pidsMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, "utf8").includes(needle)) pids.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

// machined (process mode) with a real host containerd: workloads from
// machine.workloads, their output in the node's log system, their state
// changes as node events, containerd as a supervised service.
describe.skipIf(skip !== undefined)(`workloads on a node${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let dir: string;
  let containerd: Daemon & { socket: string };
  let registry: Daemon & { url: string; host: string };
  let cluster: TestCluster;
  let node: NodeProcess;
  let image: string;

  const withWorkloads = (workloads: unknown[]): string =>
    cluster.configWith((d: ConfigDoc) => {
      d.machine["workloads"] = workloads;
      d.machine["registries"] = { [registry.host]: { endpoint: registry.url } };
    });
  const hello = (who: string) => ({
    name: "hello",
    image,
    args: ["sh", "-c", "echo hello from $WHO; exec sleep 3600"],
    env: { WHO: who },
    restart: "always",
  });
  const logLines = async (service: string): Promise<string[]> => {
    const out: string[] = [];
    for await (const l of cluster.client(node).logs({ service })) out.push(l.message);
    return out;
  };
  const eventTypes = async (): Promise<{ type: string; fields: Record<string, string> }[]> => {
    const out: { type: string; fields: Record<string, string> }[] = [];
    for await (const e of cluster.client(node).events({ tailEvents: 1000 })) out.push({ type: e.type, fields: e.fields });
    return out;
  };
  const describeNode = (): string => node.output().slice(-6000);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "cairn-wl-node-"));
    containerd = await startContainerd(join(dir, "containerd"));
    registry = await startRegistry(join(dir, "registry"));
    image = `${registry.host}/cairn/busybox:node`;
    await pushImage(registry.url, "cairn/busybox", "node", await buildBusyboxImage(image));
    cluster = await TestCluster.create("wl");
    node = await startNode({ dir: join(dir, "node"), env: { CAIRN_CONTAINERD_SOCKET: containerd.socket } });
    await cluster.configure(node, withWorkloads([hello("config")]));
  }, 120_000);

  afterAll(async () => {
    if (node?.running) {
      await cluster.client(node).applyConfiguration({ data: Buffer.from(withWorkloads([])) }).catch(() => undefined);
      await pollUntil("workloads removed", async () => ((await eventTypes()).some((e) => e.type === "workload.removed") ? true : undefined), { timeoutMs: 30_000 }).catch(() => undefined);
    }
    await stopAllNodes();
    cluster?.dispose();
    await registry?.stop();
    await containerd?.stop();
    if (containerd) for (const pid of pidsMentioning(containerd.socket)) process.kill(pid, "SIGKILL");
    const parent = processContainerHost("/unused", join(dir, "node")).cgroupParent;
    for (const h of ["", ...readdirSync("/sys/fs/cgroup")]) {
      try {
        rmdirSync(join("/sys/fs/cgroup", h, parent));
      } catch {
        // not in this hierarchy
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("lists containerd as a running service", async () => {
    const svc = await pollUntil("containerd running", async () => {
      const s = (await cluster.client(node).serviceList()).services.find((x) => x.id === "containerd");
      return s?.state === "Running" ? s : undefined;
    }, { timeoutMs: 30_000, describe: describeNode });
    expect(svc.health).toBe("ok");
    expect(svc.message).toContain(containerd.socket);
  });

  it("runs the workload declared in the config: its output is in the node's logs, its start an event", async () => {
    const lines = await pollUntil("hello's output in Logs", async () => {
      const l = await logLines("workload.hello").catch((): string[] => []);
      return l.includes("hello from config") ? l : undefined;
    }, { timeoutMs: 60_000, describe: describeNode });
    expect(lines).toContain("hello from config");
    const started = (await eventTypes()).find((e) => e.type === "workload.started");
    expect(started?.fields).toMatchObject({ workload: "hello" });
    expect(Number(started?.fields["pid"])).toBeGreaterThan(1);
  });

  it("recreates the workload when a config apply changes its env (live, no reboot)", async () => {
    await cluster.client(node).applyConfiguration({ data: Buffer.from(withWorkloads([hello("changed")])) });
    await pollUntil("new env in output", async () => ((await logLines("workload.hello")).includes("hello from changed") ? true : undefined), { timeoutMs: 60_000, describe: describeNode });
    expect((await eventTypes()).map((e) => e.type)).toContain("workload.recreating");
  });
});
