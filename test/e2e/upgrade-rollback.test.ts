import { createReadStream, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { basename, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { VersionResponse } from "../../src/api/index.js";
import { brokenInitramfs, rewriteBundle } from "./support/bundle-rewrite.js";
import { buildTestImage, type BuiltImage } from "./support/image-build.js";
import { e2eImage, E2E_VERSION } from "./support/node-image.js";
import { slot, stateOf, UpgradeNode } from "./support/upgrade-node.js";

/**
 * Automatic rollback on a real VM (OVMF + systemd-boot, TCG) from three
 * properly signed releases that are broken, installed into slot B of a
 * 0.1.0 node with `nodectl upgrade --reboot` and no further step:
 *  1. a kernel that panics before any PID 1 (its initramfs has no working
 *     /init), with the default 3 boot tries; the node downloads this one
 *     itself over http from the host (10.0.2.2 under QEMU user networking);
 *  2. a PID 1 that exits before the API starts (`--tries 1`);
 *  3. a machined that serves the API but fails a required health check
 *     (`--tries 1`): it never blesses its trial and reboots itself.
 * Each ends on 0.1.0 in slot A (new boot id) with Version's
 * rolled_back_from_version and rollback_reason, slot B BAD and an
 * upgrade.rolledback event; the console shows each try of B failing.
 */
const PANIC = "0.2.0";
const CRASH = "0.3.0";
const UNHEALTHY = "0.4.0";
/** Failed tries of slot B plus the fallback boot (a machined boot: ~25 s on a quiet host, 60-160 s at load 15-20). */
const FALLBACK_BUDGET_MS = 420_000;
const BOOT_BUDGET_MS = 240_000;

describe("automatic rollback on QEMU: kernel panic, PID 1 crash, failed health check", () => {
  const n = new UpgradeNode("upgrb");
  const panicBundle = join(n.tmp, `cairn-${PANIC}-kernel-panic.bundle`);
  let crashing: BuiltImage;
  let unhealthy: BuiltImage;
  let http: Server | undefined;
  let panicUrl = "";
  let failed = false;
  let cur: VersionResponse;

  beforeAll(async () => {
    const { image } = e2eImage();
    const created = await n.create(image.raw);
    if (created.code !== 0) throw new Error(created.transcript);
    await n.time("test releases built", async () => {
      // The 0.1.0 release re-signed as 0.2.0 with an initramfs whose /init cannot run.
      await rewriteBundle(image.bundle, panicBundle, { version: PANIC, parts: { initramfs: brokenInitramfs() } });
      crashing = buildTestImage({ version: CRASH, entry: "src/image/testdata/crash-init.ts", subdir: "e2e-upgrade-crash" });
      unhealthy = buildTestImage({ version: UNHEALTHY, entry: "src/image/testdata/unhealthy-init.ts", subdir: "e2e-upgrade-unhealthy" });
    });
    // The "release server" for the panicking release, which the node downloads itself.
    const server = createServer((req, res) => {
      if (req.url !== `/${basename(panicBundle)}`) return void res.writeHead(404).end();
      res.writeHead(200, { "content-length": statSync(panicBundle).size });
      createReadStream(panicBundle).pipe(res);
    });
    http = server;
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    panicUrl = `http://10.0.2.2:${(server.address() as AddressInfo).port}/${basename(panicBundle)}`;
    cur = n.note("first boot", await n.time("first boot", () => n.pollVersion("the 0.1.0 node", (v) => !v.maintenance, BOOT_BUDGET_MS)));
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === "fail") failed = true;
  });

  afterAll(async () => {
    console.log(`upgrade-rollback e2e story:\n  ${n.story.join("\n  ")}`);
    console.log(`upgrade-rollback e2e timings (s): ${JSON.stringify(n.timings, null, 1)}`);
    await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
    // A failed run keeps the node's serial console (every boot, across power cuts) for a human.
    if (failed) await n.keepConsole();
    await n.destroy().catch((e: unknown) => console.log(`destroy: ${String(e)}`));
    if (failed) console.log(`kept ${n.tmp} for the failure`);
    else n.removeTemp();
  });

  /**
   * Installs a broken release into slot B with --reboot (from `source`:
   * `--image FILE` or `--url URL`) and waits, with no other step, for the
   * fallback boot of 0.1.0 in slot A; `observe` sees every Version answered
   * on the way. Returns the fallback boot's Version.
   */
  async function installAndFallBack(source: string[], version: string, tries: number, observe?: (v: VersionResponse) => void): Promise<VersionResponse> {
    expect(cur).toMatchObject({ osVersion: E2E_VERSION, bootedSlot: "A" });
    expect(stateOf(cur, "A")).toBe("GOOD");
    const t = Date.now();
    const up = await n.time(`${version}: install`, () => n.ctl(["upgrade", ...source, "--reboot", ...(tries === 3 ? [] : ["--tries", String(tries)])], 300_000));
    expect(up.code, `${up.transcript}\n--- console tail ---\n${await n.consoleTail()}`).toBe(0);
    expect(up.stdout).toContain(`installed ${version} in slot B; rebooting into it`);
    const fell = await n.pollVersion(
      `the fallback boot of slot A after ${version}`,
      (v) => {
        observe?.(v);
        return v.bootId !== cur.bootId && v.osVersion === E2E_VERSION && !v.maintenance;
      },
      FALLBACK_BUDGET_MS,
    );
    n.timings[`${version}: install + ${tries} failed ${tries === 1 ? "try" : "tries"} + fallback boot`] = (Date.now() - t) / 1000;
    n.note(`fallback from ${version}`, fell);
    expect(fell).toMatchObject({ osVersion: E2E_VERSION, bootedSlot: "A", rolledBackFromVersion: version });
    expect(fell.rollbackReason).toMatch(new RegExp(`slot B \\(${version.replace(/\./g, "\\.")}\\) used all ${tries} boot tries`));
    expect(slot(fell, "B")).toEqual({ version, state: "BAD", triesLeft: 0, isDefault: false });
    expect(slot(fell, "A")).toMatchObject({ version: E2E_VERSION, state: "GOOD", isDefault: true });
    expect(await n.events()).toMatch(/upgrade\.rolledback/);
    cur = fell;
    return fell;
  }

  it(`a ${PANIC} whose kernel panics before PID 1 (downloaded by the node) falls back to slot A after its 3 tries`, async () => {
    const before = await n.count(/No working init found/);
    await installAndFallBack(["--url", panicUrl], PANIC, 3);
    // Each try got as far as the kernel looking for init, and no further.
    expect((await n.count(/No working init found/)) - before).toBe(3);
    expect(await n.consoleText()).toMatch(new RegExp(`upgrade bundle downloaded from ${panicUrl.replace(/\./g, "\\.")}`));
  });

  it(`a ${CRASH} whose PID 1 exits before the API starts falls back to slot A after its one try`, async () => {
    const before = await n.count(/CAIRN-CRASH-INIT/);
    await installAndFallBack(["--image", crashing.bundle], CRASH, 1);
    expect((await n.count(/CAIRN-CRASH-INIT/)) - before).toBe(1);
  });

  it(`a ${UNHEALTHY} that serves the API but fails a required health check is never blessed and falls back`, async () => {
    const before = await n.count(/CAIRN-UNHEALTHY-INIT/);
    const mark = await n.consoleMark();
    let trial: VersionResponse | undefined;
    await installAndFallBack(["--image", unhealthy.bundle], UNHEALTHY, 1, (v) => {
      // The one try of slot B answers on trial before it refuses to bless itself.
      if (v.bootedSlot === "B" && v.osVersion === UNHEALTHY) trial ??= v;
    });
    expect(trial, "the trial boot of slot B never answered Version").toBeDefined();
    n.note(`${UNHEALTHY} on trial`, trial!);
    // Its only try is being used: the next boot is slot A's whatever this one does (systemd-boot sorts an entry with no tries left last).
    expect(slot(trial!, "B")).toEqual({ version: UNHEALTHY, state: "PENDING", triesLeft: 0, isDefault: false });
    expect(slot(trial!, "A")).toMatchObject({ version: E2E_VERSION, state: "GOOD", isDefault: true });
    // The trial said why it would not bless itself, then rebooted (event and log line on its console).
    const since = n.consoleSince(mark);
    expect(since).toMatch(/"event":"upgrade\.unhealthy"[^\n]*test-required/);
    expect(since).toMatch(/trial boot unhealthy: not blessing, rebooting/);
    expect(since).not.toMatch(/"msg":"boot blessed"/);
    expect((await n.count(/CAIRN-UNHEALTHY-INIT/)) - before).toBeGreaterThanOrEqual(1);
  });

  it("leaves no QEMU behind", async () => {
    const { pids, alive } = await n.destroy();
    expect(pids).toHaveLength(1);
    expect(alive).toEqual([]);
  });
});
