import { createHash, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { VersionResponse } from "../../src/api/index.js";
import { rewriteBundle, tamperedCopy, unsignedCopy } from "./support/bundle-rewrite.js";
import { buildTestImage, type BuiltImage } from "./support/image-build.js";
import { e2eImage, E2E_VERSION } from "./support/node-image.js";
import { slot, stateOf, UpgradeNode } from "./support/upgrade-node.js";

/**
 * A/B upgrades on ONE real VM (OVMF + systemd-boot, TCG), in order; every
 * step is proven by Version: os_version, booted_slot, boot_id and both slots.
 *
 *  1. Refusals on 0.1.0, none of which writes anything: a wrong signature, a
 *     tampered part, an unsigned bundle, an older version without --force, a
 *     release too big for ROOT-B, a truncated upload.
 *  2. Power cuts (SIGKILL of QEMU, then QEMU again on the same qcow2 overlay
 *     and OVMF variables) while 0.1.0 installs 0.2.0 into slot B:
 *     mid-upload, mid-write, right after the default switched, on the trial
 *     boot before blessing, right after blessing. After each power-on the
 *     node runs a whole version: 0.1.0/A twice, then 0.2.0/B, which is
 *     blessed on its last try.
 *  3. 0.2.0 → 0.3.0 goes back to slot A, with a power cut during the new
 *     slot's first boot (that try is lost, the next is blessed); 0.2.0's
 *     config carries forward.
 *  4. `nodectl rollback --reboot --wait` returns to 0.2.0 in slot B and
 *     restores the config 0.2.0 ran with.
 * The kills are timed on machined's own log lines on the serial console
 * ("writing slot" steps, "upgrade written", "boot blessed", "platform
 * booted") or, for the upload, on the client's side with the node's
 * partial spool file as proof.
 */
const V1 = E2E_VERSION;
const V2 = "0.2.0";
const V3 = "0.3.0";
/** A boot under TCG takes ~25 s on a quiet host; 60-160 s were seen at load 15-20. */
const BOOT_BUDGET_MS = 240_000;
/** Bless grace (10 s) after the API is up, plus slack. */
const BLESS_BUDGET_MS = 90_000;
const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("A/B upgrades on QEMU: refusals, power cuts, 0.2.0 → 0.3.0, rollback", () => {
  const n = new UpgradeNode("upg");
  const bundles: Record<string, string> = {};
  let v2: BuiltImage;
  let v3: BuiltImage;
  let failed = false;
  /** The boot the last step ended on. */
  let cur: VersionResponse;

  /** Waits for the first Version answer of a boot other than `from` (configured, not maintenance). */
  const nextBoot = (what: string, from: VersionResponse) => n.pollVersion(what, (v) => v.bootId !== from.bootId && !v.maintenance, BOOT_BUDGET_MS);

  /** Power cut, power on, and the first Version of the boot that follows; returns it and the console of the boots cut short. */
  async function cutAndPowerOn(what: string, from: VersionResponse): Promise<{ v: VersionResponse; killed: string }> {
    const killed = await n.power.cut();
    await n.power.on();
    const v = await n.time(`power cut ${what} → next boot answers`, () => nextBoot(`the boot after the power cut ${what}`, from));
    n.note(`after the cut ${what}`, v);
    return { v, killed };
  }

  beforeAll(async () => {
    const { image } = e2eImage();
    const created = await n.create(image.raw);
    if (created.code !== 0) throw new Error(created.transcript);
    // The other releases are built while the first boot runs (version-only rebuilds of seconds).
    await n.time("test releases built", async () => {
      v2 = buildTestImage({ version: V2, entry: "cmd/machined.ts", subdir: "e2e-upgrade" });
      v3 = buildTestImage({ version: V3, entry: "cmd/machined.ts", subdir: "e2e-upgrade-v3" });
      const untrusted = generateKeyPairSync("ed25519").privateKey;
      bundles["untrusted"] = join(n.tmp, "untrusted.bundle");
      await rewriteBundle(v2.bundle, bundles["untrusted"], { version: V2, key: untrusted });
      bundles["tampered"] = join(n.tmp, "tampered.bundle");
      await tamperedCopy(v2.bundle, bundles["tampered"], "kernel");
      bundles["unsigned"] = join(n.tmp, "unsigned.bundle");
      unsignedCopy(v2.bundle, bundles["unsigned"]);
      bundles["older"] = join(n.tmp, "older.bundle");
      await rewriteBundle(image.bundle, bundles["older"], { version: "0.0.9" });
      bundles["huge"] = join(n.tmp, "huge.bundle");
      await rewriteBundle(image.bundle, bundles["huge"], { version: "0.9.0", parts: { rootfs: Buffer.alloc(257 * MiB) } });
    });
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === "fail") failed = true;
  });

  afterAll(async () => {
    console.log(`upgrade e2e story:\n  ${n.story.join("\n  ")}`);
    console.log(`upgrade e2e timings (s): ${JSON.stringify(n.timings, null, 1)}`);
    // A failed run keeps the node's serial console (every boot, across power cuts) for a human.
    if (failed) await n.keepConsole();
    await n.destroy().catch((e: unknown) => console.log(`destroy: ${String(e)}`));
    if (failed) console.log(`kept ${n.tmp} for the failure`);
    else n.removeTemp();
  });

  it("boots 0.1.0 in slot A with slot B empty", async () => {
    cur = n.note("first boot", await n.time("first boot", () => n.pollVersion("the 0.1.0 node", (v) => !v.maintenance, BOOT_BUDGET_MS)));
    expect(cur).toMatchObject({ osVersion: V1, bootedSlot: "A", rolledBackFromVersion: "" });
    expect(slot(cur, "A")).toMatchObject({ version: V1, state: "GOOD", isDefault: true });
    expect(stateOf(cur, "B")).toBe("EMPTY");
  });

  describe("refusals on 0.1.0: a clear error, nothing written, Version unchanged", () => {
    /** What a refusal must not change: this boot, its version and slot, both slots. */
    const snapshot = (v: VersionResponse) => ({ bootId: v.bootId, os: v.osVersion, slot: v.bootedSlot, slots: v.slots });

    async function refused(what: string, attempt: () => Promise<{ code: number; error: string }>, expected: RegExp): Promise<void> {
      expect(cur?.bootedSlot, "the node is up on 0.1.0").toBe("A");
      const mark = await n.consoleMark();
      const r = await n.time(`refusal: ${what}`, attempt);
      expect(r.code, r.error).not.toBe(0);
      expect(r.error).toMatch(expected);
      const after = await n.version();
      expect(snapshot(after)).toEqual(snapshot(cur));
      expect(await n.spoolFiles()).toEqual([]);
      expect(n.consoleSince(mark), "no slot write was logged").not.toMatch(/"msg":"writing slot"/);
      n.story.push(`refused ${what}: ${r.error.split(/[\r\n]+/).find((l) => /[A-Z_]{6,}: /.test(l))?.trim()}`);
    }

    const upload = async (bundle: string) => {
      const r = await n.ctl(["upgrade", "--image", bundle, "--reboot"], 300_000);
      return { code: r.code, error: r.stderr };
    };

    it("a bundle signed by a key the node does not trust", () =>
      refused("wrong signature", () => upload(bundles["untrusted"]!), /PERMISSION_DENIED: bundle signature does not match any trusted release key/));

    it("a bundle whose kernel part was tampered with (sha256 mismatch)", () =>
      refused("tampered part", () => upload(bundles["tampered"]!), /INVALID_ARGUMENT: bundle part kernel sha256 mismatch/));

    it("an unsigned bundle", () => refused("unsigned", () => upload(bundles["unsigned"]!), /PERMISSION_DENIED: bundle is unsigned \(no signature\)/));

    it("an older version without --force", () =>
      refused("older without --force", () => upload(bundles["older"]!), /FAILED_PRECONDITION: refusing to install 0\.0\.9: it is not newer than the running 0\.1\.0/));

    it("a release too big for ROOT-B", () =>
      refused("too big", () => upload(bundles["huge"]!), new RegExp(`FAILED_PRECONDITION: bundle 0\\.9\\.0 does not fit slot B: its rootfs is ${257 * MiB} bytes \\(257\\.0 MiB\\), the ROOT-B partition holds ${256 * MiB} bytes`)));

    it("a truncated upload (the client stops after 10 MiB of a bundle whose header announced all of it)", async () => {
      const bytes = readFileSync(v2.bundle);
      const sent = 10 * MiB;
      await refused("truncated upload", async () => {
        const c = await n.client(300_000);
        try {
          const header = { size: bytes.length, sha256: sha256(bytes), reboot: true, stageOnly: false, force: false, url: "", tries: 0 };
          await c.upgrade(header, Array.from({ length: sent / MiB }, (_, i) => bytes.subarray(i * MiB, (i + 1) * MiB)));
          return { code: 0, error: "accepted" };
        } catch (e) {
          return { code: 1, error: (e as Error).message };
        } finally {
          c.close();
        }
      }, new RegExp(`INVALID_ARGUMENT: upload truncated: received ${sent} of ${bytes.length} bytes`));
    });
  });

  describe(`power cuts while ${V1} installs ${V2} into slot B`, () => {
    it("mid-upload: 0.1.0 boots in slot A again, slot B stays empty, the spool is swept", async () => {
      expect(cur?.bootedSlot).toBe("A");
      const bytes = readFileSync(v2.bundle);
      const header = { size: bytes.length, sha256: sha256(bytes), reboot: true, stageOnly: false, force: false, url: "", tries: 0 };
      const c = await n.client(600_000);
      let sent = 0;
      let paused!: () => void;
      const atPause = new Promise<void>((r) => (paused = r));
      // Sends 40 % of the bundle, then holds the stream open (the node waits for more) until the power goes.
      async function* chunks(): AsyncIterable<Uint8Array> {
        for (; sent < bytes.length; sent += MiB) {
          if (sent >= bytes.length * 0.4) {
            paused();
            await new Promise(() => undefined);
          }
          yield bytes.subarray(sent, sent + MiB);
        }
      }
      const outcome = c.upgrade(header, chunks()).then(() => "completed", (e: Error) => e.message.split("\n")[0]!);
      await Promise.race([atPause, sleep(300_000).then(() => Promise.reject(new Error("the upload never reached 40 %")))]);
      // The node's side: a partial spool file, proof the node was mid-upload when the power went.
      let spool: { path: string; size: number }[] = [];
      for (let i = 0; i < 40 && !(spool[0] && spool[0].size > 0); i++) {
        spool = await n.spoolFiles();
        if (!(spool[0] && spool[0].size > 0)) await sleep(250);
      }
      expect(spool).toHaveLength(1);
      expect(spool[0]!.size).toBeGreaterThan(0);
      expect(spool[0]!.size).toBeLessThan(bytes.length);
      n.story.push(`cut mid-upload: client sent ${sent} of ${bytes.length} bytes, node spooled ${spool[0]!.size}`);
      const { v } = await cutAndPowerOn("mid-upload", cur);
      expect(await outcome).not.toBe("completed");
      c.close();
      expect(v).toMatchObject({ osVersion: V1, bootedSlot: "A", rolledBackFromVersion: "" });
      expect(slot(v, "A")).toMatchObject({ version: V1, state: "GOOD", isDefault: true });
      expect(stateOf(v, "B")).toBe("EMPTY");
      expect(await n.spoolFiles()).toEqual([]);
      cur = v;
    });

    it("mid-write (while the kernel is written to the EFI partition): 0.1.0 boots in slot A, slot B is not bootable", async () => {
      expect(cur?.bootedSlot).toBe("A");
      const mark = await n.consoleMark();
      const up = n.ctl(["upgrade", "--image", v2.bundle], 300_000);
      const line = await n.waitForLine(mark, /"step":"kernel".*"msg":"writing slot"/, 300_000);
      const { v, killed } = await cutAndPowerOn("mid-write", cur);
      const cutBoot = killed.slice(mark.from);
      const steps = [...cutBoot.matchAll(/"step":"([a-z ]+)"[^\n]*"msg":"writing slot"/g)].map((m) => m[1]);
      n.story.push(`cut mid-write after: ${line.trim().slice(0, 160)}; steps logged: ${steps.join(", ")}`);
      expect(steps.slice(0, 2)).toEqual(["rootfs", "kernel"]);
      expect(cutBoot, "the cut came after the default switched").not.toMatch(/"msg":"upgrade written"/);
      expect((await up).code).not.toBe(0);
      expect(v).toMatchObject({ osVersion: V1, bootedSlot: "A", rolledBackFromVersion: "" });
      expect(slot(v, "A")).toMatchObject({ version: V1, state: "GOOD", isDefault: true });
      // Slot B's entry is written only after its files: with none, B cannot boot.
      expect(slot(v, "B")).toMatchObject({ state: "EMPTY", isDefault: false });
      cur = v;
    });

    it("right after the default switched (before any reboot): the next power-on boots 0.2.0 in slot B on trial", async () => {
      expect(cur?.bootedSlot).toBe("A");
      const mark = await n.consoleMark();
      const up = n.ctl(["upgrade", "--image", v2.bundle], 300_000);
      await n.time("upload+verify+write 0.2.0", () => n.waitForLine(mark, /"msg":"upgrade written"/, 300_000));
      const { v, killed } = await cutAndPowerOn("after the default switched", cur);
      expect(killed.slice(mark.from)).toMatch(/"step":"switch"[^\n]*"msg":"writing slot"/);
      n.story.push(`nodectl upgrade when the power went: ${(await up).transcript.split("\n").slice(1, 3).join(" ")}`);
      // The entry rewrites (new cairn-b+3.conf, cairn-a.conf demoted) were on disk: slot B, first of 3 tries.
      expect(v).toMatchObject({ osVersion: V2, bootedSlot: "B", rolledBackFromVersion: "" });
      expect(slot(v, "B")).toEqual({ version: V2, state: "PENDING", triesLeft: 2, isDefault: true });
      expect(slot(v, "A")).toMatchObject({ version: V1, state: "GOOD", isDefault: false });
      cur = v;
    });

    it("on the trial boot before blessing: 0.2.0 boots in slot B again on its next try", async () => {
      expect(cur?.bootedSlot).toBe("B");
      expect(stateOf(cur, "B")).toBe("PENDING");
      const { v, killed } = await cutAndPowerOn("before blessing", cur);
      expect(killed, "the trial boot was blessed before the cut").not.toMatch(/"msg":"boot blessed"/);
      expect(v).toMatchObject({ osVersion: V2, bootedSlot: "B", rolledBackFromVersion: "" });
      expect(slot(v, "B")).toEqual({ version: V2, state: "PENDING", triesLeft: 1, isDefault: true });
      cur = v;
    });

    it("right after blessing: 0.2.0 boots blessed in slot B, slot A keeps 0.1.0", async () => {
      expect(cur?.bootedSlot).toBe("B");
      // This QEMU run's console starts with this boot: wait for its blessing, then cut at once.
      const run = await n.runConsole();
      const line = await n.time("blessed after first answer", () => n.waitForLine(run, /"msg":"boot blessed"/, BLESS_BUDGET_MS));
      n.story.push(`cut right after: ${line.trim().slice(0, 200)}`);
      const { v } = await cutAndPowerOn("right after blessing", cur);
      expect(v).toMatchObject({ osVersion: V2, bootedSlot: "B", rolledBackFromVersion: "" });
      expect(slot(v, "B")).toEqual({ version: V2, state: "GOOD", triesLeft: 0, isDefault: true });
      expect(slot(v, "A")).toEqual({ version: V1, state: "GOOD", triesLeft: 0, isDefault: false });
      cur = v;
    });
  });

  it(`${V2} → ${V3} goes back to slot A; a power cut during its first boot costs one try; ${V2}'s config carries forward`, async () => {
    expect(cur?.bootedSlot).toBe("B");
    expect(stateOf(cur, "B")).toBe("GOOD");
    const p = await n.ctl(["patch", "-p", JSON.stringify({ machine: { hostname: "runs-v2" } })]);
    expect(p.code, p.transcript).toBe(0);
    const mark = await n.consoleMark();
    const up = await n.time("upload+verify+write 0.3.0", () => n.ctl(["upgrade", "--image", v3.bundle, "--reboot"], 300_000));
    expect(up.code, up.transcript).toBe(0);
    expect(up.stdout).toContain(`installed ${V3} in slot A; rebooting into it`);
    // machined of 0.3.0 is starting in slot A: cut it there.
    const booting = await n.time("reboot until 0.3.0's machined starts", () =>
      n.waitForLine(mark, new RegExp(`"slot":"A","osVersion":"${V3.replace(/\./g, "\\.")}"[^\n]*"msg":"platform booted"`), BOOT_BUDGET_MS));
    const cutBootId = /"bootId":"([0-9a-f-]+)"/.exec(booting)?.[1];
    n.story.push(`cut during the first boot of 0.3.0 (boot ${cutBootId?.slice(0, 8)}): ${booting.trim().slice(0, 160)}`);
    const { v } = await cutAndPowerOn("during the first boot of slot A", cur);
    expect(v.bootId).not.toBe(cutBootId);
    expect(v).toMatchObject({ osVersion: V3, bootedSlot: "A", rolledBackFromVersion: "" });
    expect(slot(v, "A")).toEqual({ version: V3, state: "PENDING", triesLeft: 1, isDefault: true });
    expect(slot(v, "B")).toMatchObject({ version: V2, state: "GOOD", isDefault: false });
    const blessed = await n.time("0.3.0 blessed after first answer", () => n.pollVersion("slot A to be blessed", (x) => stateOf(x, "A") === "GOOD", BLESS_BUDGET_MS));
    n.note("0.3.0 blessed", blessed);
    expect(blessed.bootId).toBe(v.bootId);
    expect(slot(blessed, "A")).toEqual({ version: V3, state: "GOOD", triesLeft: 0, isDefault: true });
    expect(blessed.hostname).toBe("runs-v2");
    expect(await n.events()).toMatch(/upgrade\.blessed/);
    cur = blessed;
  });

  it(`nodectl rollback --reboot --wait returns to ${V2} in slot B with the config ${V2} ran with`, async () => {
    expect(cur?.bootedSlot).toBe("A");
    expect(stateOf(cur, "A")).toBe("GOOD");
    const p = await n.ctl(["patch", "-p", JSON.stringify({ machine: { hostname: "runs-v3" } })]);
    expect(p.code, p.transcript).toBe(0);
    const rb = await n.time("rollback --reboot --wait", () => n.ctl(["rollback", "--reboot", "--wait", "--timeout", String(BOOT_BUDGET_MS / 1000)], BOOT_BUDGET_MS + 30_000));
    expect(rb.code, `${rb.transcript}\n--- console tail ---\n${await n.consoleTail()}`).toBe(0);
    const back = n.note("rollback", await nextBoot("slot B to boot", cur));
    expect(back).toMatchObject({ osVersion: V2, bootedSlot: "B", rolledBackFromVersion: "", hostname: "runs-v2" });
    expect(slot(back, "B")).toMatchObject({ version: V2, state: "GOOD", isDefault: true });
    expect(slot(back, "A")).toMatchObject({ version: V3, state: "GOOD", isDefault: false });
    expect(await n.events()).toMatch(/config\.restored/);
    cur = back;
  });

  it("leaves no QEMU behind", async () => {
    const { pids, alive } = await n.destroy();
    expect(pids).toHaveLength(1);
    expect(alive).toEqual([]);
  });
});
