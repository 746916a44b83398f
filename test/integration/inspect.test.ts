import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { status } from "@grpc/grpc-js";
import tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MachineClient } from "../../src/machinery/client/index.js";
import { TestCluster, expectCode, nodectl, show, startNode, stopAllNodes, type NodeProcess } from "./support/index.js";

// Machine state (ps, memory, disks, mounts, netstat) and the file policy
// (Read, Copy) of a process-mode node over real mTLS: host-process
// equivalents of what a metal node reads from its kernel.

let cluster: TestCluster;
let node: NodeProcess;
let admin: MachineClient;
let reader: MachineClient;

beforeAll(async () => {
  cluster = await TestCluster.create("inspect");
  node = await startNode();
  await cluster.configure(node);
  admin = cluster.client(node);
  reader = cluster.client(node, cluster.creds("os:reader"));
  // A log file, and symlinks that try to lead out of /var/log into STATE and the host.
  const log = join(node.dir, "var", "log");
  mkdirSync(log, { recursive: true });
  writeFileSync(join(log, "probe.log"), "probe line\n");
  symlinkSync(join(node.dir, "state", "config"), join(log, "to-state-config"));
  symlinkSync(join(node.dir, "state"), join(log, "to-state-dir"));
  symlinkSync("/etc/hostname", join(log, "to-host-etc"));
});
afterAll(async () => {
  await stopAllNodes();
  cluster.dispose();
});

async function readAll(chunks: AsyncIterable<{ data: Uint8Array }>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(Buffer.from(c.data));
  return Buffer.concat(parts);
}

/** Entry names and the whole tar bytes of a gzip'd tar. */
async function untar(gz: Buffer): Promise<{ names: Map<string, string>; raw: Buffer }> {
  const raw = gunzipSync(gz);
  const names = new Map<string, string>();
  const x = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    x.on("entry", (h, stream, next) => {
      names.set(h.name, h.type ?? "file");
      stream.on("end", next);
      stream.resume();
    });
    x.on("finish", resolve);
    x.on("error", reject);
  });
  x.end(raw);
  await done;
  return { names, raw };
}

/** Every base64 line of the CA private key: if any of them shows up, the key leaked. */
function caKeyLines(): string[] {
  return cluster.secrets.ca.keyPem.split("\n").filter((l) => l && !l.startsWith("-----"));
}

function expectNoCaKey(bytes: Buffer, what: string): void {
  const text = bytes.toString("latin1");
  for (const line of caKeyLines()) expect(text.includes(line), `${what} contains CA key material`).toBe(false);
}

describe("machine state of a process-mode node", () => {
  it("ps lists the node process and its command line", async () => {
    const { processes } = await admin.processes();
    const me = processes.find((p) => p.pid === node.pid);
    expect(me, JSON.stringify(processes.slice(0, 5))).toBeDefined();
    expect(me?.cmdline).toMatch(/machined/);
    expect(me?.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(me?.state).toMatch(/^[RSDI]$/);
    const r = await nodectl(["-n", node.address, "ps"], cluster.env);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${node.address}\\s+${node.pid}\\s+\\d+\\s+[A-Z]\\s+\\d+\\s+[\\d.]+ MiB\\s+[\\d.]+s\\s+.*machined`, "m"));
  });

  it("memory reports /proc/meminfo in bytes", async () => {
    const m = await reader.memory();
    const host = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1]) * 1024;
    expect(m.totalBytes).toBe(host);
    expect(m.availableBytes).toBeGreaterThan(0);
    expect(m.fields["MemTotal"]).toBe(host);
    const r = await nodectl(["-n", node.address, "-o", "json", "memory"], cluster.env);
    expect(r.code, show(r)).toBe(0);
    expect((JSON.parse(r.stdout) as { totalBytes: number }[])[0]?.totalBytes).toBe(host);
  });

  it("mounts and disks show the stand-in STATE and EPHEMERAL areas with usage", async () => {
    const { mounts } = await reader.mounts();
    expect(mounts.map((m) => m.target)).toEqual(["/system/state", "/var"]);
    for (const m of mounts) expect(m.sizeBytes).toBeGreaterThan(m.usedBytes);
    const { devices } = await reader.disks();
    expect(devices.map((d) => [d.partitionLabel, d.type, d.mountpoints])).toEqual([
      ["STATE", "directory", ["/system/state"]],
      ["EPHEMERAL", "directory", ["/var"]],
    ]);
    for (const cmd of ["mounts", "disks"]) {
      const r = await nodectl(["-n", node.address, cmd], cluster.env);
      expect(r.code, show(r)).toBe(0);
      expect(r.stdout).toMatch(/\/var/);
    }
  });

  it("netstat lists the node's own listening API socket", async () => {
    const { sockets } = await reader.netstat(true);
    const api = sockets.find((s) => s.localPort === node.port && s.state === "LISTEN");
    expect(api, JSON.stringify(sockets)).toBeDefined();
    expect(sockets.every((s) => s.state === "LISTEN" || s.state === "UNCONN")).toBe(true);
    // The client connection we are using is one of the node's established sockets.
    const all = (await reader.netstat()).sockets;
    expect(all.some((s) => s.localPort === node.port && s.state === "ESTABLISHED")).toBe(true);
    const r = await nodectl(["-n", node.address, "netstat", "-l"], cluster.env);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`tcp6?\\s+\\S+:${node.port}\\s+\\S+\\s+LISTEN`));
  });
});

describe("file policy: Read and Copy", () => {
  it("lets a reader read /var/log but nothing outside it", async () => {
    expect((await readAll(reader.read("/var/log/probe.log"))).toString()).toBe("probe line\n");
    for (const path of ["/proc/self/status", "/var/lib", "/etc/os-release"]) {
      const err = await expectCode(reader.read(path), status.PERMISSION_DENIED);
      expect(err.details).toContain(path);
    }
    // An operator-readable path is readable by an admin.
    expect((await readAll(admin.read("/proc/self/status"))).toString()).toMatch(/^Name:/);
  });

  it("never serves STATE, by path or through symlinks and /proc escape hatches, to an admin either", async () => {
    const paths = [
      "/system/state/config",
      "/var/log/to-state-config",
      "/var/log/to-state-dir/config",
      "/var/log/to-host-etc",
      `/proc/self/root${join(node.dir, "state", "config")}`,
      `/proc/1/root${join(node.dir, "state", "config")}`,
      `/proc/${node.pid}/cwd/state/config`,
      "/proc/self/environ",
      "/proc/self/task/1/environ",
      "/proc/kcore",
      "/sys/firmware",
      "/dev/vda",
    ];
    for (const path of paths) {
      for (const client of [admin, reader]) {
        const err = await expectCode(client.read(path), status.PERMISSION_DENIED);
        expect(err.details, path).toContain(path);
        await expectCode(client.copy(path), status.PERMISSION_DENIED);
      }
    }
  });

  it("Copy of /var gives a tar.gz of the logs without the STATE links' contents or the CA key", async () => {
    const gz = await readAll(admin.copy("/var"));
    expect(gz.subarray(0, 2).toString("hex")).toBe("1f8b");
    const { names, raw } = await untar(gz);
    expect(names.get("var/log/probe.log")).toBe("file");
    // Links are stored as links (never followed), so STATE's files are not in it.
    expect(names.get("var/log/to-state-dir")).toBe("symlink");
    expect([...names.keys()].some((n) => n.includes("to-state-dir/"))).toBe(false);
    expect(raw.toString("latin1")).toContain("probe line");
    expectNoCaKey(raw, "copy of /var");
  });

  it("a reader may copy /var/log but not /var; nodectl copy writes the archive", async () => {
    await expectCode(reader.copy("/var"), status.PERMISSION_DENIED);
    const { names } = await untar(await readAll(reader.copy("/var/log")));
    expect(names.has("var/log/probe.log")).toBe(true);
    const out = join(cluster.dir, "logs.tar.gz");
    const r = await nodectl(["-n", node.address, "copy", "/var/log", "--output", out], cluster.env);
    expect(r.code, show(r)).toBe(0);
    expect((await untar(readFileSync(out))).names.has("var/log/probe.log")).toBe(true);
  });

  it("nodectl read reports the denied path", async () => {
    const r = await nodectl(["-n", node.address, "read", "/system/state/config"], cluster.env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/PERMISSION_DENIED: \/system\/state\/config: /);
    expectNoCaKey(Buffer.from(r.stdout + r.stderr), "nodectl read output");
  });
});
