import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAlive, listClusters } from "../../src/provision/index.js";
import { brokenInitramfs, rewriteBundle } from "./support/bundle-rewrite.js";
import { buildTestImage, type BuiltImage } from "./support/image-build.js";
import { e2eImage, E2E_VERSION } from "./support/node-image.js";
import { nodectl } from "./support/node-nodectl.js";
import type { SlotJson, VersionJson } from "./support/version-json.js";

/**
 * Automatic rollback on a real VM (OVMF + systemd-boot), the cases
 * upgrade.test.ts does not cover, on one 0.1.0 node:
 *  1. a signed release whose kernel panics before any PID 1 (its initramfs
 *     has no working /init): three panicking tries, then slot A boots;
 *  2. a release whose machined serves the API but fails a required health
 *     check: it never blesses its trial boot and reboots itself until the
 *     counter runs out, then slot A boots.
 * Each case ends on 0.1.0 in slot A with a new boot id, Version's
 * rolled_back_from_version/rollback_reason and an upgrade.rolledback event.
 */
const PANIC_VERSION = "0.2.0";
const UNHEALTHY_VERSION = "0.3.0";
const CLUSTER = "upgrb";
/** Three failed tries of the new slot plus the fallback boot (a machined boot takes 30-90 s under TCG, slower on a loaded host). */
const FALLBACK_BUDGET_MS = 540_000;
/** Per-test limit: upload + the fallback budget. */
const CASE_TIMEOUT_MS = 900_000;
const BOOT_BUDGET_MS = 150_000;

/**
 * Opt-in for now (CAIRN_E2E_SLOW=1, `npm run test:e2e:slow`): six failed boots
 * under TCG take 7-12 minutes and the health case has passed once; the next
 * step is to make it fast and robust enough for every CI run (issue 5 note).
 */
describe.runIf(process.env["CAIRN_E2E_SLOW"] === "1")("automatic rollback on QEMU: kernel panic, failed health check", () => {
  const tmp = mkdtempSync("/tmp/cairn-e2e-upgrb-");
  const config = join(tmp, "nodectlconfig");
  const stateRoot = join(tmp, "clusters");
  const ctl = (args: string[], timeoutMs = 60_000) => nodectl(args, { config, timeoutMs });
  const timings: Record<string, number> = {};
  const panicBundle = join(tmp, `cairn-${PANIC_VERSION}-kernel-panic.bundle`);
  let unhealthy: BuiltImage;

  function consoleText(): string {
    try {
      return readFileSync(join(stateRoot, CLUSTER, `${CLUSTER}-node-1`, "console.log"), "utf8");
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
      // Short per-call limit: a call made while the VM reboots hangs, and a trial boot answers for ~20 s only.
      const r = await ctl(["version", "-o", "json"], 8_000);
      if (r.code === 0) {
        const [v] = JSON.parse(r.stdout) as VersionJson[];
        if (v && (await until(v))) return v;
        last = JSON.stringify(v);
      } else {
        last = r.transcript;
      }
      await sleep(1000);
    }
    throw new Error(`waiting for ${what}: no matching Version within ${budgetMs / 1000} s; last: ${last}\n--- console tail ---\n${consoleTail()}`);
  }

  const slot = (v: VersionJson, name: string) => v.slots.find((s) => s.name === name);
  const isState = (s: SlotJson | undefined, state: string) => s !== undefined && (s.state === state || s.state === `SLOT_STATE_${state}`);

  /**
   * Installs `bundle` with --reboot and waits for the fallback boot of slot
   * A, showing every Version answered on the way to `observe`; returns the
   * fallback boot's Version.
   */
  async function upgradeAndFallBack(bundle: string, version: string, from: VersionJson, observe?: (v: VersionJson) => Promise<void>): Promise<VersionJson> {
    const t = Date.now();
    const up = await ctl(["upgrade", "--image", bundle, "--reboot"], 300_000);
    expect(up.code, `${up.transcript}\n--- console tail ---\n${consoleTail()}`).toBe(0);
    expect(up.stdout).toContain(`installed ${version} in slot B`);
    const fell = await pollVersion(
      `the fallback boot of slot A after ${version}`,
      async (v) => {
        await observe?.(v);
        return v.bootId !== from.bootId && v.osVersion === E2E_VERSION;
      },
      FALLBACK_BUDGET_MS,
    );
    timings[`${version}: upgrade + 3 failed tries + fallback boot`] = (Date.now() - t) / 1000;
    expect(fell).toMatchObject({ osVersion: E2E_VERSION, bootedSlot: "A", rolledBackFromVersion: version });
    expect(fell.rollbackReason).toMatch(new RegExp(`slot B \\(${version.replace(/\./g, "\\.")}\\) used all 3 boot tries`));
    expect(isState(slot(fell, "B"), "BAD"), JSON.stringify(fell.slots)).toBe(true);
    expect(slot(fell, "B")).toMatchObject({ version, triesLeft: 0, isDefault: false });
    expect(slot(fell, "A")).toMatchObject({ version: E2E_VERSION, isDefault: true });
    expect(isState(slot(fell, "A"), "GOOD")).toBe(true);
    const events = await ctl(["events", "--tail", "50"]);
    expect(events.stdout, events.transcript).toMatch(/upgrade\.rolledback/);
    console.log(`${version}: A/${E2E_VERSION} ${from.bootId} → 3 tries of B/${version} → A/${E2E_VERSION} ${fell.bootId}; reason: ${fell.rollbackReason}`);
    return fell;
  }

  let first: VersionJson;
  let afterPanic: VersionJson;

  beforeAll(async () => {
    const { image } = e2eImage();
    let t = Date.now();
    // The 0.1.0 release re-signed as 0.2.0 with an initramfs whose /init cannot run.
    await rewriteBundle(image.bundle, panicBundle, { version: PANIC_VERSION, parts: { initramfs: brokenInitramfs() } });
    unhealthy = buildTestImage({ version: UNHEALTHY_VERSION, entry: "src/image/testdata/unhealthy-init.ts", subdir: "e2e-upgrade-unhealthy" });
    timings["test bundles"] = (Date.now() - t) / 1000;
    t = Date.now();
    const created = await ctl(["cluster", "create", CLUSTER, "--image", image.raw, "--state-root", stateRoot, "--memory", "512"]);
    expect(created.code, created.transcript).toBe(0);
    first = await pollVersion("the 0.1.0 node", (v) => !v.maintenance);
    timings["first boot"] = (Date.now() - t) / 1000;
    expect(first).toMatchObject({ osVersion: E2E_VERSION, bootedSlot: "A" });
  });

  afterAll(async () => {
    await ctl(["cluster", "destroy", CLUSTER, "--state-root", stateRoot]);
    rmSync(tmp, { recursive: true, force: true });
    console.log(`upgrade-rollback e2e timings (s): ${JSON.stringify(timings)}`);
  });

  it(`a ${PANIC_VERSION} whose kernel panics before PID 1 falls back to slot A after three tries`, async () => {
    const panicsBefore = count(/No working init found/g);
    afterPanic = await upgradeAndFallBack(panicBundle, PANIC_VERSION, first);
    // Each try got as far as the kernel looking for init, and no further.
    expect(count(/No working init found/g) - panicsBefore).toBe(3);
  }, CASE_TIMEOUT_MS);

  it(`a ${UNHEALTHY_VERSION} that serves the API but fails a required health check is never blessed and falls back`, async () => {
    expect(afterPanic?.bootedSlot).toBe("A");
    const failsBefore = count(/CAIRN-UNHEALTHY-INIT/g);
    let trial: VersionJson | undefined;
    let unhealthyEvent = "";
    await upgradeAndFallBack(unhealthy.bundle, UNHEALTHY_VERSION, afterPanic, async (v) => {
      // A try of slot B answers (on trial, PENDING), then says it is unhealthy before rebooting.
      if (v.bootedSlot !== "B" || v.osVersion !== UNHEALTHY_VERSION) return;
      trial ??= v;
      if (unhealthyEvent) return;
      const ev = await ctl(["events", "--tail", "50"], 8_000);
      unhealthyEvent = ev.stdout.split("\n").find((l) => l.includes("upgrade.unhealthy")) ?? "";
    });
    expect(trial, consoleTail()).toBeDefined();
    expect(isState(slot(trial!, "B"), "PENDING"), JSON.stringify(trial!.slots)).toBe(true);
    expect(slot(trial!, "B")).toMatchObject({ version: UNHEALTHY_VERSION, isDefault: true });
    expect(slot(trial!, "B")!.triesLeft).toBeLessThanOrEqual(2);
    expect(unhealthyEvent, consoleTail()).toMatch(/test-required/);
    console.log(`trial boot ${trial!.bootId}: ${JSON.stringify(slot(trial!, "B"))}; event: ${unhealthyEvent}`);
    // Every try reached the API and its failing check: three boots, three refusals.
    expect(count(/CAIRN-UNHEALTHY-INIT/g) - failsBefore).toBe(3);
  }, CASE_TIMEOUT_MS);

  it("leaves no QEMU behind", async () => {
    const [listing] = (await listClusters(stateRoot)).filter((c) => c.state.name === CLUSTER);
    const pids = listing?.state.nodes.map((n) => n.pid) ?? [];
    expect(pids.length).toBe(1);
    const destroyed = await ctl(["cluster", "destroy", CLUSTER, "--state-root", stateRoot]);
    expect(destroyed.code, destroyed.transcript).toBe(0);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });
});
