import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { bootEntry, bootEntryFileName, SORT_KEY } from "../../machinery/boot/index.js";
import { DirBootStore } from "../../platform/dir-boot-store.js";
import { EventBus } from "../event-bus.js";
import { waitFor, type HealthCheck } from "./health.js";
import { SlotConfigs } from "./slot-config.js";
import { UNHEALTHY_REBOOT_DELAY_MS, UpgradeService } from "./upgrade-service.js";

let dir: string;
let store: DirBootStore;
const entries = () => readdirSync(join(dir, "efi", "loader", "entries")).sort();

/** Slot A known-good, slot B booted on its first try (systemd-boot renamed +3 to +2-1). */
async function trialOfB(): Promise<{ svc: UpgradeService; events: EventBus; reboots: string[] }> {
  await store.writeEntry(bootEntryFileName("A"), bootEntry("A", "0.1.0", SORT_KEY.fallback));
  await store.writeEntry("cairn-b+2-1.conf", bootEntry("B", "0.2.0", SORT_KEY.preferred));
  const events = new EventBus("boot-1");
  const reboots: string[] = [];
  const svc = await UpgradeService.open({
    store,
    identity: { bootId: "boot-1", slot: "B", osVersion: "0.2.0", buildId: "t", arch: "amd64" },
    events,
    log: pino({ level: "silent" }),
    spoolDir: join(dir, "spool"),
    configKeys: () => [],
    reboot: (why) => reboots.push(why),
    slotConfigs: new SlotConfigs(join(dir, "state")),
    activeConfig: async () => "machine: {}\n",
  });
  return { svc, events, reboots };
}

const types = (events: EventBus) => events.replay({ tail: 100 }).map((e) => e.type);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cairn-gate-"));
  store = new DirBootStore({ efiDir: async () => join(dir, "efi"), rootTarget: async (s) => join(dir, `root-${s}`), releaseKeysDir: join(dir, "keys") });
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

describe("health checks gate the blessing of a trial boot", () => {
  it("blesses once every check is ok after the grace period", async () => {
    const { svc, events, reboots } = await trialOfB();
    let up = false;
    svc.scheduleBlessing([waitFor("api", () => up, "down")], 1000);
    await vi.advanceTimersByTimeAsync(3000);
    expect(entries()).toContain("cairn-b+2-1.conf");
    up = true;
    await vi.advanceTimersByTimeAsync(1500);
    // The event comes last: after the config is saved for slot B and the entry renamed.
    await vi.waitFor(() => expect(types(events)).toContain("upgrade.blessed"));
    expect(entries()).toContain("cairn-b.conf");
    expect(readFileSync(join(dir, "state", "config", "slots", "b.yaml"), "utf8")).toBe("machine: {}\n");
    expect(reboots).toEqual([]);
  });

  it("a failed required check: no blessing, upgrade.unhealthy, then a reboot that burns the try", async () => {
    const { svc, events, reboots } = await trialOfB();
    const failing: HealthCheck = { name: "disk", check: () => ({ status: "failed", message: "no disk" }) };
    svc.scheduleBlessing([waitFor("api", () => true, "down"), failing], 1000);
    await vi.advanceTimersByTimeAsync(1000);
    await vi.waitFor(() => expect(types(events)).toContain("upgrade.unhealthy"));
    const ev = events.replay({ tail: 100 }).find((e) => e.type === "upgrade.unhealthy")!;
    expect(ev.fields).toMatchObject({ slot: "B", version: "0.2.0", triesLeft: "2", problems: "disk: no disk" });
    expect(reboots).toEqual([]);
    await vi.advanceTimersByTimeAsync(UNHEALTHY_REBOOT_DELAY_MS);
    expect(reboots).toHaveLength(1);
    expect(reboots[0]).toMatch(/slot B \(0\.2\.0\) failed its health checks on trial: disk: no disk/);
    expect(entries()).toEqual(["cairn-a.conf", "cairn-b+2-1.conf"]);
  });

  it("a check still waiting at the deadline counts as failed", async () => {
    const { svc, events, reboots } = await trialOfB();
    svc.scheduleBlessing([waitFor("config", () => false, "maintenance mode")], 1000);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(types(events)).not.toContain("upgrade.unhealthy");
    await vi.advanceTimersByTimeAsync(70_000 + UNHEALTHY_REBOOT_DELAY_MS);
    expect(types(events)).toContain("upgrade.unhealthy");
    expect(reboots).toHaveLength(1);
  });

  it("does nothing on a boot that is not a trial", async () => {
    await store.writeEntry(bootEntryFileName("A"), bootEntry("A", "0.1.0"));
    const events = new EventBus("boot-1");
    const svc = await UpgradeService.open({ store, identity: { bootId: "b", slot: "A", osVersion: "0.1.0", buildId: "t", arch: "amd64" }, events, log: pino({ level: "silent" }), spoolDir: join(dir, "spool"), configKeys: () => [], reboot: () => expect.unreachable(), slotConfigs: new SlotConfigs(join(dir, "state")), activeConfig: async () => undefined });
    svc.scheduleBlessing([{ name: "x", check: () => ({ status: "failed", message: "x" }) }], 10);
    await vi.advanceTimersByTimeAsync(200_000);
    expect(types(events)).not.toContain("upgrade.unhealthy");
  });
});
