import { mkdtempSync, readdirSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processContainerHost } from "../../src/platform/process/process-container-host.js";
import { containerdUnavailable, killShims, startContainerd, startRegistry, type Daemon } from "./support/containerd.js";
import { buildBusyboxImage, ociArchive, pushImage } from "./support/oci-image.js";
import { TestCluster, expectCode, nodectl, pollUntil, show, startNode, stopAllNodes, type ConfigDoc, type NodeProcess } from "./support/index.js";

const skip = containerdUnavailable();

/** A buffer in the 1 MiB pieces the API accepts, as nodectl sends them. */
function inMiB(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += 1024 * 1024) out.push(buf.subarray(i, i + 1024 * 1024));
  return out;
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
    if (containerd) killShims(containerd.socket);
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

  it("nodectl containers lists the workload with its state, pid and image", async () => {
    const r = await nodectl(["-n", node.address, "containers"], cluster.env);
    expect(r.code, show(r)).toBe(0);
    const row = r.stdout.split("\n").find((l) => /\bhello\b/.test(l));
    expect(row, show(r)).toMatch(new RegExp(`hello\\s+${image.replace(/[.]/g, "\\.")}\\s+running\\s+\\d+`));
  });

  it("nodectl logs WORKLOAD shows its output; -f streams the next run's output after nodectl restart", async () => {
    const r = await nodectl(["-n", node.address, "logs", "hello"], cluster.env);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain("hello from changed");
    // Follow through the API, then restart through the CLI: the new run's line arrives on the open stream.
    const ac = new AbortController();
    const seen: string[] = [];
    const following = (async () => {
      for await (const l of cluster.client(node).containerLogs({ name: "hello", follow: true, tailLines: 1 }, ac.signal)) {
        seen.push(`${l.stream}:${l.line}`);
        if (seen.length >= 2) ac.abort();
      }
    })();
    const before = (await cluster.client(node).containerList()).containers.find((w) => w.name === "hello")!;
    const rr = await nodectl(["-n", node.address, "restart", "hello"], cluster.env, 60_000);
    expect(rr.code, show(rr)).toBe(0);
    await pollUntil("second line on the followed stream", async () => (seen.length >= 2 ? true : undefined), { timeoutMs: 30_000, describe: () => JSON.stringify(seen) });
    await following;
    expect(seen).toEqual(["stdout:hello from changed", "stdout:hello from changed"]);
    const after = await pollUntil("hello running again", async () => {
      const w = (await cluster.client(node).containerList()).containers.find((x) => x.name === "hello");
      return w?.state === "running" ? w : undefined;
    }, { timeoutMs: 30_000 });
    expect(after.pid).not.toBe(before.pid);
    expect(after.restarts).toBe(before.restarts + 1);
  });

  it("a host containerd that stops shows as Failed; when it is back it is Running and the workload is re-attached (same pid)", async () => {
    const containerdService = async () => (await cluster.client(node).serviceList()).services.find((x) => x.id === "containerd");
    const workload = async () => (await cluster.client(node).containerList()).containers.find((c) => c.name === "hello");
    const before = (await pollUntil("hello running", async () => {
      const w = await workload();
      return w?.state === "running" ? w : undefined;
    }, { timeoutMs: 60_000, describe: describeNode }));
    await containerd.crash();
    const down = await pollUntil("containerd Failed", async () => {
      const s = await containerdService();
      return s?.state === "Failed" ? s : undefined;
    }, { timeoutMs: 15_000, describe: describeNode });
    expect(down.message).toContain(`not answering on ${containerd.socket}`);
    expect((await workload())?.state).toBe("unknown");
    containerd = await startContainerd(join(dir, "containerd"));
    await pollUntil("containerd Running again", async () => ((await containerdService())?.state === "Running" ? true : undefined), { timeoutMs: 30_000, describe: describeNode });
    const after = await pollUntil("hello re-attached", async () => {
      const w = await workload();
      return w?.state === "running" ? w : undefined;
    }, { timeoutMs: 30_000, describe: describeNode });
    expect(after).toMatchObject({ pid: before.pid, restarts: before.restarts });
    const types = (await eventTypes()).filter((e) => e.fields["workload"] === "hello" || e.fields["service"] === "containerd").map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(["workload.detached", "workload.reattached", "service.state"]));
  });

  it("refuses unknown workloads with NOT_FOUND naming them (API and CLI)", async () => {
    const c = cluster.client(node);
    const e1 = await expectCode(c.containerRestart("nope"), status.NOT_FOUND);
    expect(e1.details).toContain('no workload "nope"');
    const e2 = await expectCode(c.containerLogs({ name: "nope" }), status.NOT_FOUND);
    expect(e2.details).toContain('"nope"');
    const r = await nodectl(["-n", node.address, "restart", "nope"], cluster.env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/NOT_FOUND|no workload "nope"/);
  });

  it("imports an OCI archive with nodectl image import, lists it, refuses removal while in use, removes it", async () => {
    const name = `import.local/cairn/busybox:imported`;
    const archive = join(dir, "app.tar");
    writeFileSync(archive, await ociArchive(await buildBusyboxImage(name, "imported")));
    const r = await nodectl(["-n", node.address, "image", "import", archive], cluster.env, 60_000);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain(`imported ${name}`);
    const list = await nodectl(["-n", node.address, "image", "list"], cluster.env);
    expect(list.stdout).toContain(name);
    expect(list.stdout).toContain(image);
    const inUse = await expectCode(cluster.client(node).imageRemove(image), status.FAILED_PRECONDITION);
    expect(inUse.details).toContain("hello");
    const rm = await nodectl(["-n", node.address, "image", "remove", name], cluster.env);
    expect(rm.code, show(rm)).toBe(0);
    expect((await cluster.client(node).imageList()).images.map((i) => i.name)).not.toContain(name);
    expect((await eventTypes()).map((e) => e.type)).toEqual(expect.arrayContaining(["image.imported", "image.removed"]));
  });

  it("refuses a bad archive with INVALID_ARGUMENT naming the file, and a tampered blob naming the blob", async () => {
    const c = cluster.client(node);
    const junk = await expectCode(c.imageImport({ name: "", fileName: "junk.tar" }, [Buffer.alloc(4096, 7)]), status.INVALID_ARGUMENT);
    expect(junk.details).toMatch(/^junk\.tar: /);
    const img = await buildBusyboxImage("import.local/cairn/busybox:bad", "bad");
    const tampered = { ...img, config: { ...img.config, data: Buffer.from(img.config.data.toString().replace("bad", "bax")) } };
    const e = await expectCode(c.imageImport({ name: "", fileName: "tampered.tar" }, inMiB(await ociArchive(tampered))), status.INVALID_ARGUMENT);
    expect(e.details).toContain("tampered.tar: ");
    expect(e.details).toContain(img.config.digest);
    expect(e.details).toContain("digest mismatch");
  });

  it("lets readers list but not restart or import (RBAC)", async () => {
    const reader = cluster.client(node, cluster.creds("os:reader"));
    expect((await reader.containerList()).containers.map((w) => w.name)).toContain("hello");
    await expectCode(reader.containerRestart("hello"), status.PERMISSION_DENIED);
    await expectCode(reader.imageImport({ name: "", fileName: "x.tar" }, []), status.PERMISSION_DENIED);
    await expectCode(reader.imageRemove(image), status.PERMISSION_DENIED);
  });

  it("stops and removes the workload when the config no longer declares it", async () => {
    const pid = (await cluster.client(node).containerList()).containers.find((w) => w.name === "hello")!.pid;
    await cluster.client(node).applyConfiguration({ data: Buffer.from(withWorkloads([])) });
    await pollUntil("hello removed", async () => ((await cluster.client(node).containerList()).containers.length === 0 ? true : undefined), { timeoutMs: 60_000, describe: describeNode });
    expect((await eventTypes()).map((e) => e.type)).toContain("workload.removed");
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
