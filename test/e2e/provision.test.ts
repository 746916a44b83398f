import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cleanupOnExit,
  createCluster,
  destroyCluster,
  detectAccel,
  isAlive,
  launchNode,
  listClusters,
  type Cleanup,
} from "../../src/provision/index.js";

// Real QEMU, no guest OS needed: the lifecycle tests use a blank raw disk, on
// which OVMF sits in its failed-boot path, which is enough to prove launch,
// QMP, reset, power-off and teardown without racing whatever a guest OS does.
// When dist/ holds a built image, one more test boots it from an overlay.
// Short paths: QMP sockets must fit in sun_path (108 bytes).

/** `CAIRN_E2E_IMAGE`, else the newest dist/cairn-*-amd64.raw, else undefined. */
function builtImage(): string | undefined {
  const fromEnv = process.env["CAIRN_E2E_IMAGE"];
  if (fromEnv !== undefined && fromEnv !== "") return resolve(fromEnv);
  const dist = resolve("dist");
  if (!existsSync(dist)) return undefined;
  const raws = readdirSync(dist).filter((f) => /^cairn-.*-amd64\.raw$/.test(f)).sort();
  return raws.length > 0 ? join(dist, raws[raws.length - 1] as string) : undefined;
}

/** process.kill(pid, 0) throws ESRCH once the process is reaped; allow a moment for the reaper. */
async function pidReaped(pid: number): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

describe("QEMU provisioner (real QEMU)", () => {
  let tmp: string;
  /** A blank disk: OVMF idles in its shell forever, so lifecycle timing never races a guest. */
  let image: string;
  const built = builtImage();
  let cleanup: Cleanup;

  beforeAll(() => {
    cleanup = cleanupOnExit();
    tmp = mkdtempSync("/tmp/cairn-e2e-prov-");
    image = join(tmp, "blank.raw");
    execFileSync("qemu-img", ["create", "-q", "-f", "raw", image, "64M"]);
  });

  afterAll(async () => {
    await cleanup.run();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("detects the accelerator within the bounded probe time", async () => {
    const t = Date.now();
    expect(["kvm", "tcg"]).toContain(await detectAccel());
    expect(Date.now() - t).toBeLessThan(5000);
  });

  it("launches a node, answers QMP, logs the console, survives a reset and powers off", async () => {
    const t = Date.now();
    const node = cleanup.track(await launchNode({ name: "solo", baseImage: image, workDir: join(tmp, "solo") }));
    const launchMs = Date.now() - t;
    console.log(`launchNode: ${launchMs} ms total, timings ${JSON.stringify(node.timings)}`);

    expect(node.apiEndpoint).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(isAlive(node.pid)).toBe(true);
    const info = JSON.parse(execFileSync("qemu-img", ["info", "--output=json", "-U", join(node.workDir, "disk.qcow2")], { encoding: "utf8" })) as {
      "backing-filename": string; "virtual-size": number;
    };
    expect(info["backing-filename"]).toBe(image);
    expect(info["virtual-size"]).toBeGreaterThanOrEqual(4 * 1024 ** 3);

    const qmp = await node.qmp();
    expect(await qmp.queryStatus()).toMatchObject({ status: "running", running: true });

    // The serial console is captured: OVMF reaches its boot manager (~9 s under TCG)
    // and never tries network boot, since the NIC carries no option ROM.
    const bds = Date.now();
    await node.waitForConsole(/BdsDxe: (loading|starting|failed)/, 60_000);
    console.log(`OVMF boot manager on console after ${Date.now() - bds + launchMs} ms from launch`);
    expect(node.consoleText()).not.toMatch(/PXE|HTTP Boot/i);

    const resetSeen = qmp.waitForEvent("RESET", 5000);
    await node.reset();
    await resetSeen;
    expect(await qmp.queryStatus()).toMatchObject({ status: "running" });
    expect(node.isRunning()).toBe(true);

    // OVMF without an OS ignores the ACPI button, so powerOff falls through to QMP quit.
    const outcome = await node.powerOff(1000);
    expect(["acpi", "quit"]).toContain(outcome);
    expect(await node.waitForExit(1000)).toBe(true);
    expect(await pidReaped(node.pid)).toBe(true);
  });

  it("kill() is a power cut; launching again in the workDir powers the same disk back on", async () => {
    const spec = { name: "cut", baseImage: image, workDir: join(tmp, "cut"), accel: "tcg" as const };
    const node = cleanup.track(await launchNode(spec));
    const disk = statSync(join(spec.workDir, "disk.qcow2")).ino;
    await node.kill();
    expect(node.isRunning()).toBe(false);
    expect(await pidReaped(node.pid)).toBe(true);

    const again = cleanup.track(await launchNode(spec));
    expect(again.pid).not.toBe(node.pid);
    expect(statSync(join(spec.workDir, "disk.qcow2")).ino).toBe(disk);
    expect(existsSync(join(spec.workDir, "console.log.1"))).toBe(true);
    await again.kill();
  });

  it("reports a QEMU that exits during startup with the reason from its log", async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", () => r()));
    const port = (busy.address() as AddressInfo).port;
    try {
      const err = await launchNode({ name: "clash", baseImage: image, workDir: join(tmp, "clash"), apiHostPort: port, accel: "tcg" }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "UNAVAILABLE", message: expect.stringMatching(/exited .* during startup.*host forwarding/) });
    } finally {
      busy.close();
    }
  });

  it.skipIf(built === undefined)("boots the built image's bootloader from a qcow2 overlay, with a fw_cfg config", async () => {
    const config = join(tmp, "node.yaml");
    writeFileSync(config, "apiVersion: v1alpha1\nkind: MachineConfig\n");
    const t = Date.now();
    const node = cleanup.track(await launchNode({ name: "built", baseImage: built as string, workDir: join(tmp, "built"), configFile: config }));
    // OVMF found an EFI system partition on the virtio disk and started its loader.
    await node.waitForConsole(/BdsDxe: starting Boot\d+ "UEFI Misc Device"/, 60_000);
    console.log(`built image: bootloader started ${Date.now() - t} ms after launch`);
    expect(node.consoleText()).not.toMatch(/PXE/);
    await node.kill();
  });

  it("creates, lists and destroys a two-node cluster, leaving no process and no directory", async () => {
    const root = join(tmp, "state");
    const t = Date.now();
    const state = cleanup.trackCluster(await createCluster({ name: "e2e", image, nodes: 2, stateRoot: root }), root);
    console.log(`createCluster(2 nodes): ${Date.now() - t} ms`);

    expect(state.nodes.map((n) => n.name)).toEqual(["e2e-node-1", "e2e-node-2"]);
    expect(new Set(state.nodes.map((n) => n.apiHostPort)).size).toBe(2);
    expect(existsSync(join(root, "e2e", "cluster.json"))).toBe(true);

    const listed = await listClusters(root);
    expect(listed.map((c) => c.state.name)).toEqual(["e2e"]);
    expect(listed[0]?.running).toEqual({ "e2e-node-1": true, "e2e-node-2": true });

    await expect(createCluster({ name: "e2e", image, nodes: 1, stateRoot: root })).rejects.toMatchObject({
      code: "ALREADY_EXISTS",
      message: expect.stringContaining(join(root, "e2e")),
    });

    const t2 = Date.now();
    await destroyCluster("e2e", root);
    console.log(`destroyCluster(2 nodes): ${Date.now() - t2} ms`);
    for (const n of state.nodes) expect(await pidReaped(n.pid)).toBe(true);
    expect(existsSync(join(root, "e2e"))).toBe(false);
    expect(await listClusters(root)).toEqual([]);
  });
});
