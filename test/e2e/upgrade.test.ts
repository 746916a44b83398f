import { createHash } from "node:crypto";
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { basename, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contextCredentials, currentContext, MachineClient, mtlsChannelCredentials, readNodectlConfig } from "../../src/machinery/client/index.js";
import { isAlive, listClusters } from "../../src/provision/index.js";
import { brokenInitramfs, rewriteBundle } from "./support/bundle-rewrite.js";
import { buildTestImage, type BuiltImage } from "./support/image-build.js";
import { e2eImage, E2E_VERSION } from "./support/node-image.js";
import { nodectl, type NodectlRun } from "./support/node-nodectl.js";
import { NodePower } from "./support/power-cut.js";
import type { SlotJson, VersionJson } from "./support/version-json.js";

/**
 * A/B upgrades on ONE real VM (OVMF + systemd-boot), told in order; every
 * step is proven by Version: os_version, booted_slot, boot_id and the slots.
 *
 *  1. Power cuts (QMP quit, then power on again) during the install of
 *     0.2.0: mid-upload, while slot B is written, after the default switched
 *     (before any reboot), during the trial boot before blessing, and just
 *     after blessing. Each time the node boots a whole version on a
 *     consistent slot and its API answers.
 *  2. 0.2.0 → 0.3.0 downloaded by the node over http from the host
 *     (10.0.2.2 under QEMU user networking) goes back to slot A; the config
 *     changed on 0.2.0 carries forward.
 *  3. Rollback to 0.2.0 in slot B restores the config 0.2.0 ran with.
 *  4. A bundle too big for ROOT-A is refused before anything is written.
 *  5. Automatic rollback from three signed but broken releases: a kernel
 *     that panics before PID 1 (3 tries), a PID 1 that crashes (--tries 1),
 *     a machined whose required health check fails after the API is up
 *     (--tries 1). Each ends on 0.2.0 in slot B with a rollback event.
 */
const V1 = E2E_VERSION;
const V2 = "0.2.0";
const V3 = "0.3.0";
const PANIC = "0.4.0";
const CRASH = "0.4.1";
const UNHEALTHY = "0.4.2";
const HUGE = "0.5.0";
const CLUSTER = "upg";
const BOOT_BUDGET_MS = 180_000;
/** Default bless grace (10 s) plus slack for a loaded TCG host. */
const BLESS_BUDGET_MS = 90_000;
/** Failed tries of the new slot plus the fallback boot. */
const FALLBACK_BUDGET_MS = 420_000;
const MiB = 1024 * 1024;

describe("A/B upgrades, power cuts and rollback on QEMU", () => {
  const tmp = mkdtempSync("/tmp/cairn-e2e-upg-");
  const config = join(tmp, "nodectlconfig");
  const stateRoot = join(tmp, "clusters");
  const ctl = (args: string[], timeoutMs = 60_000) => nodectl(args, { config, timeoutMs });
  const timings: Record<string, number> = {};
  const story: string[] = [];
  const power = new NodePower(join(stateRoot, CLUSTER), join(stateRoot, `${CLUSTER}.node.yaml`));
  const panicBundle = join(tmp, `cairn-${PANIC}-kernel-panic.bundle`);
  const hugeBundle = join(tmp, `cairn-${HUGE}-huge.bundle`);
  let v2: BuiltImage;
  let v3: BuiltImage;
  let crashing: BuiltImage;
  let unhealthy: BuiltImage;
  let created: NodectlRun;
  let endpoint = "";
  let http: Server;
  let httpPort = 0;

  function consoleText(): string {
    try {
      return readFileSync(join(stateRoot, CLUSTER, `${CLUSTER}-node-1`, "console.log"), "latin1");
    } catch {
      return "(no console log)";
    }
  }
  const consoleTail = (lines = 40) => consoleText().split("\n").slice(-lines).join("\n");
  const count = (re: RegExp) => (consoleText().match(re) ?? []).length;

  /** Polls `nodectl version` until `until` holds; fails with the last answer and the console tail. */
  async function pollVersion(what: string, until: (v: VersionJson) => boolean | Promise<boolean>, budgetMs = BOOT_BUDGET_MS): Promise<VersionJson> {
    const deadline = Date.now() + budgetMs;
    let last = "no answer yet";
    while (Date.now() < deadline) {
      // Short per-call limit: a call made while the VM reboots hangs, and a trial try answers for a few seconds only.
      const r = await ctl(["version", "-o", "json"], 8_000);
      if (r.code === 0) {
        const [v] = JSON.parse(r.stdout) as VersionJson[];
        if (v && (await until(v))) return v;
        last = JSON.stringify(v);
      } else {
        last = r.transcript;
      }
      await sleep(500);
    }
    throw new Error(`waiting for ${what}: no matching Version within ${budgetMs / 1000} s; last: ${last}\n--- console tail ---\n${consoleTail()}`);
  }

  const slot = (v: VersionJson, name: string) => v.slots.find((s) => s.name === name);
  const isState = (s: SlotJson | undefined, state: string) => s !== undefined && (s.state === state || s.state === `SLOT_STATE_${state}`);
  const hostname = (v: VersionJson) => (v as VersionJson & { hostname: string }).hostname;
  const note = (what: string, v: VersionJson) => story.push(`${what}: ${v.osVersion}/${v.bootedSlot} boot ${v.bootId}`);

  async function client(): Promise<MachineClient> {
    const ctx = contextCredentials(currentContext(await readNodectlConfig(config)));
    return new MachineClient(endpoint, mtlsChannelCredentials(ctx), 600_000);
  }

  /** Cuts the power, powers on again and waits for a boot other than `from` to answer. */
  async function cutAndBoot(what: string, from: VersionJson): Promise<VersionJson> {
    const t = Date.now();
    await power.cut();
    await power.on();
    const v = await pollVersion(`the boot after the power cut ${what}`, (x) => x.bootId !== from.bootId && !x.maintenance);
    timings[`power cut ${what} → API answers`] = (Date.now() - t) / 1000;
    note(`after the cut ${what}`, v);
    return v;
  }

  async function patchHostname(name: string): Promise<void> {
    const p = await ctl(["patch", "-p", JSON.stringify({ machine: { hostname: name } })]);
    expect(p.code, p.transcript).toBe(0);
  }

  async function eventLines(): Promise<string> {
    const ev = await ctl(["events", "--tail", "100"], 15_000);
    return ev.stdout;
  }

  beforeAll(async () => {
    const { image } = e2eImage();
    created = await ctl(["cluster", "create", CLUSTER, "--image", image.raw, "--state-root", stateRoot, "--memory", "512"]);
    // Every other release is built while the first boot runs (each a version-only rebuild of seconds).
    const t = Date.now();
    v2 = buildTestImage({ version: V2, entry: "cmd/machined.ts", subdir: "e2e-upgrade" });
    v3 = buildTestImage({ version: V3, entry: "cmd/machined.ts", subdir: "e2e-upgrade-v3" });
    crashing = buildTestImage({ version: CRASH, entry: "src/image/testdata/crash-init.ts", subdir: "e2e-upgrade-crash" });
    unhealthy = buildTestImage({ version: UNHEALTHY, entry: "src/image/testdata/unhealthy-init.ts", subdir: "e2e-upgrade-unhealthy" });
    // The 0.1.0 release re-signed as 0.4.0 with an initramfs whose /init cannot run.
    await rewriteBundle(image.bundle, panicBundle, { version: PANIC, parts: { initramfs: brokenInitramfs() } });
    // A signed release whose rootfs is 1 MiB larger than a 256 MiB root slot.
    await rewriteBundle(image.bundle, hugeBundle, { version: HUGE, parts: { rootfs: Buffer.alloc(257 * MiB) } });
    timings["test releases built"] = (Date.now() - t) / 1000;
    // The "release server": 0.3.0's bundle over http, reached by the guest at 10.0.2.2.
    http = createServer((req, res) => {
      if (req.url !== `/${basename(v3.bundle)}`) return void res.writeHead(404).end();
      res.writeHead(200, { "content-length": statSync(v3.bundle).size });
      createReadStream(v3.bundle).pipe(res);
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    httpPort = (http.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await ctl(["cluster", "destroy", CLUSTER, "--state-root", stateRoot]);
    await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
    rmSync(tmp, { recursive: true, force: true });
    console.log(`upgrade e2e story:\n  ${story.join("\n  ")}`);
    console.log(`upgrade e2e timings (s): ${JSON.stringify(timings, null, 1)}`);
  });

  let first: VersionJson;
  let blessedV2: VersionJson;
  let onV3: VersionJson;
  let backOnV2: VersionJson;

  describe("power cuts during the install of 0.2.0", () => {
    let cur: VersionJson;

    it("mid-upload: the node boots 0.1.0 in slot A again and slot B stays empty", async () => {
      expect(created.code, created.transcript).toBe(0);
      first = await pollVersion("the 0.1.0 node", (v) => !v.maintenance);
      note("first boot", first);
      expect(first).toMatchObject({ osVersion: V1, bootedSlot: "A" });
      expect(isState(slot(first, "B"), "EMPTY"), JSON.stringify(first.slots)).toBe(true);
      endpoint = (await power.node()).apiEndpoint;

      const bytes = readFileSync(v2.bundle);
      const header = { size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex"), reboot: true, stageOnly: false, force: false, url: "", tries: 0 };
      const c = await client();
      let sent = 0;
      async function* chunks(): AsyncIterable<Uint8Array> {
        for (; sent < bytes.length; sent += MiB) {
          if (sent >= bytes.length * 0.4) {
            await power.cut();
            throw new Error("power cut");
          }
          yield bytes.subarray(sent, sent + MiB);
        }
      }
      const up = await c.upgrade(header, chunks()).then(() => "completed", (e: Error) => e.message);
      c.close();
      expect(up).not.toBe("completed");
      story.push(`cut after sending ${sent} of ${bytes.length} bytes`);
      await power.on();
      cur = await pollVersion("the boot after the cut mid-upload", (x) => x.bootId !== first.bootId && !x.maintenance);
      note("after the cut mid-upload", cur);
      expect(cur).toMatchObject({ osVersion: V1, bootedSlot: "A", rolledBackFromVersion: "" });
      expect(isState(slot(cur, "B"), "EMPTY"), JSON.stringify(cur.slots)).toBe(true);
    });

    it("while slot B is written: 0.1.0 in slot A boots, slot B is not the default", async () => {
      const c = await client();
      const stop = new AbortController();
      const seen: string[] = [];
      // Cut the moment the node says the bundle is verified: the writes of slot B start right after.
      const cutting = (async () => {
        for await (const e of c.events({ follow: true }, stop.signal)) {
          seen.push(e.type);
          if (e.type === "upgrade.verified") {
            await power.cut();
            return;
          }
        }
      })().catch((e: unknown) => seen.push(`stream: ${(e as Error).message.split("\n")[0]}`));
      await sleep(1000);
      const up = await ctl(["upgrade", "--image", v2.bundle], 300_000);
      await cutting;
      stop.abort();
      c.close();
      story.push(`events before the cut: ${seen.join(", ")}`);
      expect(seen).toContain("upgrade.verified");
      expect(seen, "the cut came after the slot was written").not.toContain("upgrade.written");
      expect(up.code, up.transcript).not.toBe(0);
      await power.on();
      const v = await pollVersion("the boot after the cut mid-write", (x) => x.bootId !== cur.bootId && !x.maintenance);
      note("after the cut mid-write", v);
      expect(v).toMatchObject({ osVersion: V1, bootedSlot: "A" });
      expect(slot(v, "A")).toMatchObject({ isDefault: true });
      expect(isState(slot(v, "B"), "GOOD")).toBe(false);
      expect(slot(v, "B")).toMatchObject({ isDefault: false });
      cur = v;
    });

    it("after the default switched, before any reboot: the next power-on boots 0.2.0 in slot B on trial", async () => {
      const t = Date.now();
      const up = await ctl(["upgrade", "--image", v2.bundle], 300_000);
      timings["upload+verify+write 0.2.0"] = (Date.now() - t) / 1000;
      expect(up.code, `${up.transcript}\n--- console tail ---\n${consoleTail()}`).toBe(0);
      expect(up.stdout).toContain(`installed ${V2} in slot B; it boots next`);
      const written = await pollVersion("the written slot B", () => true, 20_000);
      expect(written.bootId).toBe(cur.bootId);
      expect(slot(written, "B")).toMatchObject({ version: V2, triesLeft: 3, isDefault: true });
      // Power cut instead of a reboot, then the first answer of the new boot: slot B on its first try.
      cur = await cutAndBoot("after the default switched", cur);
      expect(cur).toMatchObject({ osVersion: V2, bootedSlot: "B" });
      expect(isState(slot(cur, "B"), "PENDING"), `the trial boot was already blessed at its first answer: ${JSON.stringify(cur.slots)}`).toBe(true);
      expect(slot(cur, "B")).toMatchObject({ triesLeft: 2, isDefault: true });
    });

    it("during the trial boot, before blessing: the next try boots 0.2.0 again and blesses it", async () => {
      expect(cur?.bootedSlot).toBe("B");
      cur = await cutAndBoot("during the trial boot", cur);
      expect(cur).toMatchObject({ osVersion: V2, bootedSlot: "B", rolledBackFromVersion: "" });
      const b = slot(cur, "B")!;
      if (!isState(b, "GOOD")) expect(b).toMatchObject({ triesLeft: 1, isDefault: true });
      const t = Date.now();
      blessedV2 = await pollVersion("slot B to be blessed", (v) => isState(slot(v, "B"), "GOOD"), BLESS_BUDGET_MS);
      timings["blessed after first answer"] = (Date.now() - t) / 1000;
      expect(blessedV2.bootId).toBe(cur.bootId);
      expect(await eventLines()).toMatch(/upgrade\.blessed/);
    });

    it("just after blessing: 0.2.0 boots blessed in slot B, slot A keeps 0.1.0", async () => {
      const v = await cutAndBoot("just after blessing", blessedV2);
      expect(v).toMatchObject({ osVersion: V2, bootedSlot: "B", rolledBackFromVersion: "" });
      expect(isState(slot(v, "B"), "GOOD"), JSON.stringify(v.slots)).toBe(true);
      expect(slot(v, "B")).toMatchObject({ version: V2, isDefault: true });
      expect(isState(slot(v, "A"), "GOOD")).toBe(true);
      expect(slot(v, "A")).toMatchObject({ version: V1, isDefault: false });
      blessedV2 = v;
    });
  });

  it(`${V2} → ${V3}, downloaded by the node over http, goes back to slot A; ${V2}'s config carries forward`, async () => {
    expect(blessedV2?.bootedSlot).toBe("B");
    await patchHostname("runs-v2");
    const url = `http://10.0.2.2:${httpPort}/${basename(v3.bundle)}`;
    const t = Date.now();
    const up = await ctl(["upgrade", "--url", url, "--reboot"], 300_000);
    timings["download+verify+write 0.3.0"] = (Date.now() - t) / 1000;
    expect(up.code, `${up.transcript}\n--- console tail ---\n${consoleTail()}`).toBe(0);
    expect(up.stdout).toContain(`installed ${V3} in slot A`);
    onV3 = await pollVersion("slot A to boot 0.3.0", (v) => v.bootId !== blessedV2.bootId);
    note("v2 → v3", onV3);
    expect(onV3).toMatchObject({ osVersion: V3, bootedSlot: "A" });
    onV3 = await pollVersion("slot A to be blessed", (v) => isState(slot(v, "A"), "GOOD"), BLESS_BUDGET_MS);
    expect(slot(onV3, "A")).toMatchObject({ version: V3, isDefault: true });
    expect(slot(onV3, "B")).toMatchObject({ version: V2, isDefault: false });
    expect(hostname(onV3)).toBe("runs-v2");
    expect(await eventLines()).toMatch(/upgrade\.received.*downloaded from http:\/\/10\.0\.2\.2/);
  });

  it(`nodectl rollback --reboot returns to ${V2} in slot B with the config ${V2} ran with`, async () => {
    expect(onV3?.bootedSlot).toBe("A");
    await patchHostname("runs-v3");
    const rb = await ctl(["rollback", "--reboot"]);
    expect(rb.code, rb.transcript).toBe(0);
    expect(rb.stdout).toContain(`next boot: slot B (${V2})`);
    backOnV2 = await pollVersion("slot B to boot", (v) => v.bootId !== onV3.bootId);
    note("rollback", backOnV2);
    expect(backOnV2).toMatchObject({ osVersion: V2, bootedSlot: "B" });
    expect(slot(backOnV2, "B")).toMatchObject({ isDefault: true });
    expect(slot(backOnV2, "A")).toMatchObject({ version: V3, isDefault: false });
    expect(hostname(backOnV2)).toBe("runs-v2");
    expect(await eventLines()).toMatch(/config\.restored/);
  });

  it("refuses a release too big for ROOT-A before writing anything", async () => {
    expect(backOnV2?.bootedSlot).toBe("B");
    const before = await pollVersion("the node", () => true, 20_000);
    const up = await ctl(["upgrade", "--image", hugeBundle, "--reboot"], 300_000);
    expect(up.code, up.transcript).not.toBe(0);
    expect(up.stderr).toMatch(new RegExp(`FAILED_PRECONDITION.*bundle ${HUGE} does not fit slot A: its rootfs is ${257 * MiB} bytes \\(257\\.0 MiB\\), the ROOT-A partition holds ${256 * MiB} bytes`));
    const after = await pollVersion("the node", () => true, 20_000);
    expect({ bootId: after.bootId, slots: after.slots }).toEqual({ bootId: before.bootId, slots: before.slots });
  });

  /**
   * Installs `bundle` with --reboot and waits for the fallback boot of slot
   * B, showing every Version answered on the way to `observe`; returns it.
   */
  async function upgradeAndFallBack(bundle: string, version: string, tries: number, from: VersionJson, observe?: (v: VersionJson) => Promise<void>): Promise<VersionJson> {
    const t = Date.now();
    const up = await ctl(["upgrade", "--image", bundle, "--reboot", "--tries", String(tries)], 300_000);
    expect(up.code, `${up.transcript}\n--- console tail ---\n${consoleTail()}`).toBe(0);
    expect(up.stdout).toContain(`installed ${version} in slot A`);
    const fell = await pollVersion(
      `the fallback boot of slot B after ${version}`,
      async (v) => {
        await observe?.(v);
        return v.bootId !== from.bootId && v.osVersion === V2;
      },
      FALLBACK_BUDGET_MS,
    );
    timings[`${version}: upgrade + ${tries} failed tries + fallback boot`] = (Date.now() - t) / 1000;
    note(`fallback from ${version}`, fell);
    expect(fell).toMatchObject({ osVersion: V2, bootedSlot: "B", rolledBackFromVersion: version });
    expect(fell.rollbackReason).toMatch(new RegExp(`slot A \\(${version.replace(/\./g, "\\.")}\\) used all ${tries} boot tries`));
    expect(isState(slot(fell, "A"), "BAD"), JSON.stringify(fell.slots)).toBe(true);
    expect(slot(fell, "A")).toMatchObject({ version, triesLeft: 0, isDefault: false });
    expect(slot(fell, "B")).toMatchObject({ version: V2, isDefault: true });
    expect(isState(slot(fell, "B"), "GOOD")).toBe(true);
    expect(hostname(fell)).toBe("runs-v2");
    expect(await eventLines()).toMatch(/upgrade\.rolledback/);
    return fell;
  }

  describe("automatic rollback from broken releases", () => {
    let cur: VersionJson;

    it(`a ${PANIC} whose kernel panics before PID 1 falls back to slot B after three tries`, async () => {
      expect(backOnV2?.bootedSlot).toBe("B");
      const before = count(/No working init found/g);
      cur = await upgradeAndFallBack(panicBundle, PANIC, 3, backOnV2);
      // Each try got as far as the kernel looking for init, and no further.
      expect(count(/No working init found/g) - before).toBe(3);
    });

    it(`a ${CRASH} whose PID 1 crashes before the API starts falls back after its one try`, async () => {
      expect(cur?.bootedSlot).toBe("B");
      const before = count(/CAIRN-CRASH-INIT/g);
      cur = await upgradeAndFallBack(crashing.bundle, CRASH, 1, cur);
      expect(count(/CAIRN-CRASH-INIT/g) - before).toBe(1);
    });

    it(`a ${UNHEALTHY} that serves the API but fails a required health check is never blessed and falls back`, async () => {
      expect(cur?.bootedSlot).toBe("B");
      const before = count(/CAIRN-UNHEALTHY-INIT/g);
      let trial: VersionJson | undefined;
      let unhealthyEvent = "";
      await upgradeAndFallBack(unhealthy.bundle, UNHEALTHY, 1, cur, async (v) => {
        // The try of slot A answers (on trial, PENDING), then says it is unhealthy before rebooting.
        if (v.bootedSlot !== "A" || v.osVersion !== UNHEALTHY) return;
        trial ??= v;
        if (unhealthyEvent) return;
        unhealthyEvent = (await eventLines()).split("\n").find((l) => l.includes("upgrade.unhealthy")) ?? "";
      });
      expect(trial, consoleTail()).toBeDefined();
      expect(isState(slot(trial!, "A"), "PENDING"), JSON.stringify(trial!.slots)).toBe(true);
      expect(slot(trial!, "A")).toMatchObject({ version: UNHEALTHY, isDefault: true, triesLeft: 0 });
      expect(unhealthyEvent, consoleTail()).toMatch(/test-required/);
      expect(count(/CAIRN-UNHEALTHY-INIT/g) - before).toBeGreaterThanOrEqual(1);
    });
  });

  it("leaves no QEMU behind", async () => {
    const [listing] = (await listClusters(stateRoot)).filter((c) => c.state.name === CLUSTER);
    const pids = listing?.state.nodes.map((n) => n.pid) ?? [];
    expect(pids.length).toBe(1);
    const destroyed = await ctl(["cluster", "destroy", CLUSTER, "--state-root", stateRoot]);
    expect(destroyed.code, destroyed.transcript).toBe(0);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });
});
