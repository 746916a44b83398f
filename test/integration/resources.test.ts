import { createSocket, type Socket } from "node:dgram";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApplyMode, ResourceKind } from "../../src/api/index.js";
import { encodeSntpReply } from "../../src/machinery/time/sntp-packet.js";
import { TestCluster, expectCode, nodectl, pollUntil, show, startNode, stopAllNodes, type NodeProcess } from "./support/index.js";

// GetResources and the controllers behind it on a process-mode node: the
// same code as metal above the platform (which records instead of touching
// the host's hostname, sysctls or clock). Time sync runs against a real
// SNTP server on 127.0.0.1 whose clock is 3 s ahead.

let cluster: TestCluster;
let node: NodeProcess;
let sntp: Socket;
let sntpAddr: string;

beforeAll(async () => {
  sntp = createSocket("udp4");
  sntp.on("message", (msg, from) => {
    const now = Date.now() + 3000;
    sntp.send(encodeSntpReply(msg, now, now), from.port, from.address);
  });
  await new Promise<void>((r) => sntp.bind(0, "127.0.0.1", r));
  sntpAddr = `127.0.0.1:${(sntp.address() as AddressInfo).port}`;
  cluster = await TestCluster.create("res");
  node = await startNode();
  await cluster.configure(
    node,
    cluster.configWith((d) => {
      d.machine["hostname"] = "res-1";
      d.machine["time"] = { servers: [sntpAddr] };
      d.machine["sysctls"] = { "net.ipv4.ip_forward": "1" };
      d.machine["files"] = [{ path: "/var/lib/res/a.txt", content: "abc\n", mode: 0o600 }];
    }),
  );
});
afterAll(async () => {
  await stopAllNodes();
  cluster.dispose();
  sntp.close();
});

describe("GetResources (process mode)", () => {
  it("reports time synced against the SNTP server with its 3 s offset, and timed running", async () => {
    const c = cluster.client(node);
    const time = await pollUntil("time synced", async () => {
      const r = await c.getResources(ResourceKind.RESOURCE_KIND_TIME);
      return r.time?.synced ? r : undefined;
    }, { timeoutMs: 20_000 });
    expect(time.time).toMatchObject({ synced: true, server: sntpAddr, stratum: 1, steps: 1, servers: [sntpAddr], lastError: "" });
    expect(time.time!.offsetSeconds).toBeGreaterThan(2.8);
    expect(time.time!.offsetSeconds).toBeLessThan(3.2);
    expect(time.controllers).toEqual([expect.objectContaining({ name: "time", lastError: "" })]);
    const timed = (await c.serviceList()).services.find((s) => s.id === "timed");
    expect(timed).toMatchObject({ state: "Running", health: "ok" });
  });

  it("reports hostname, sysctls and the managed file as written", async () => {
    const c = cluster.client(node);
    expect((await c.getResources(ResourceKind.RESOURCE_KIND_HOSTNAME)).hostname).toEqual({ hostname: "res-1", configured: "res-1" });
    expect((await c.getResources(ResourceKind.RESOURCE_KIND_SYSCTLS)).sysctls).toEqual([{ name: "net.ipv4.ip_forward", value: "1", configured: "1", present: true }]);
    const files = (await c.getResources(ResourceKind.RESOURCE_KIND_FILES)).files;
    expect(files).toEqual([{ path: "/var/lib/res/a.txt", exists: true, mode: 0o600, size: 4, sha256: createHash("sha256").update("abc\n").digest("hex"), op: "create" }]);
    expect(readFileSync(join(node.dir, "var/lib/res/a.txt"), "utf8")).toBe("abc\n");
  });

  it("staged kernel args go into the slot's boot entry before the config is persisted", async () => {
    const c = cluster.client(node);
    const withArgs = cluster.configWith((d) => {
      d.machine["hostname"] = "res-1";
      d.machine["time"] = { servers: [sntpAddr] };
      d.machine["sysctls"] = { "net.ipv4.ip_forward": "1" };
      d.machine["files"] = [{ path: "/var/lib/res/a.txt", content: "abc\n", mode: 0o600 }];
      d.machine["kernel"] = { args: ["cairn.it=1"] };
    });
    const err = await expectCode(c.applyConfiguration({ data: Buffer.from(withArgs), mode: ApplyMode.APPLY_MODE_NO_REBOOT }), status.FAILED_PRECONDITION);
    expect(err.fieldDetails).toEqual([{ path: "machine.kernel.args", message: "needs a reboot to take effect" }]);
    // AUTO stages (never reboots) and names the field.
    const auto = await c.applyConfiguration({ data: Buffer.from(withArgs) });
    expect(auto.mode).toBe(ApplyMode.APPLY_MODE_STAGED);
    expect(auto.rebootRequiredPaths).toEqual(["machine.kernel.args"]);
    expect(auto.message).toMatch(/nothing was applied live/);
    expect((await c.getConfiguration()).stagedPending).toBe(true);
    const k = (await c.getResources(ResourceKind.RESOURCE_KIND_KERNEL)).kernel;
    expect(k?.bootEntry).toMatch(/^cairn-a/);
    expect(k?.bootEntryOptions).toMatch(/cairn\.slot=A .* cairn\.it=1$/);
    expect(k?.configuredArgs).toEqual([]); // the active config has none until the next boot
  });

  it("nodectl get renders every kind as a table and as yaml", async () => {
    for (const kind of ["hostname", "links", "addresses", "routes", "resolvers", "time", "sysctls", "files", "kernel"]) {
      const r = await nodectl(["-n", node.address, "get", kind], cluster.env);
      expect(r.code, show(r)).toBe(0);
      expect(r.stdout, show(r)).toMatch(/^NODE/);
    }
    const y = await nodectl(["-n", node.address, "-o", "yaml", "get", "time"], cluster.env);
    expect(y.code, show(y)).toBe(0);
    expect(y.stdout).toMatch(/synced: true/);
  });
});
