import { describe, expect, it } from "vitest";
import type { MaintenanceWindow } from "../config/update-schema.js";
import { jitterMs, nextStep, type PolicyInput, type UpdaterState } from "./policy.js";
import { windowState } from "./windows.js";

// 2026-11-23 is a Monday, 2026-11-28 a Saturday, 2026-11-29 a Sunday.
const t = (iso: string) => Date.parse(iso);
const MIN = 60_000;

describe("maintenance windows (UTC, weekly)", () => {
  const satLate: MaintenanceWindow[] = [{ days: ["Sat"], start: "23:00", lengthMinutes: 120 }];

  it("no windows: always open", () => {
    expect(windowState(t("2026-11-23T12:00:00Z"), [])).toEqual({ open: true });
  });

  it("a window crossing midnight is open on both sides and closes on the next day", () => {
    const monNight: MaintenanceWindow[] = [{ days: ["Mon"], start: "23:30", lengthMinutes: 60 }];
    expect(windowState(t("2026-11-23T23:29:59.999Z"), monNight)).toEqual({ open: false, opensAt: t("2026-11-23T23:30:00Z") });
    expect(windowState(t("2026-11-23T23:30:00Z"), monNight)).toEqual({ open: true, closesAt: t("2026-11-24T00:30:00Z") });
    expect(windowState(t("2026-11-24T00:29:30Z"), monNight)).toEqual({ open: true, closesAt: t("2026-11-24T00:30:00Z") });
    expect(windowState(t("2026-11-24T00:30:00Z"), monNight)).toEqual({ open: false, opensAt: t("2026-11-30T23:30:00Z") });
  });

  it("a Saturday window runs into Sunday across the week boundary", () => {
    expect(windowState(t("2026-11-28T23:00:00Z"), satLate)).toEqual({ open: true, closesAt: t("2026-11-29T01:00:00Z") });
    expect(windowState(t("2026-11-29T00:59:00Z"), satLate).open).toBe(true); // Sunday = day 0
    expect(windowState(t("2026-11-29T01:00:00Z"), satLate)).toEqual({ open: false, opensAt: t("2026-12-05T23:00:00Z") });
    // From Sunday morning the next opening is six days and 22 hours away, in the next week.
    expect(windowState(t("2026-11-29T01:00:00Z"), satLate).opensAt! - t("2026-11-29T01:00:00Z")).toBe((6 * 24 + 22) * 60 * MIN);
  });

  it("several days and windows: the nearest opening, the latest close", () => {
    const ws: MaintenanceWindow[] = [
      { days: ["Tue", "Thu"], start: "02:00", lengthMinutes: 60 },
      { days: ["Tue"], start: "02:30", lengthMinutes: 120 },
    ];
    expect(windowState(t("2026-11-23T12:00:00Z"), ws)).toEqual({ open: false, opensAt: t("2026-11-24T02:00:00Z") });
    expect(windowState(t("2026-11-24T02:45:00Z"), ws)).toEqual({ open: true, closesAt: t("2026-11-24T04:30:00Z") });
    expect(windowState(t("2026-11-24T04:30:00Z"), ws)).toEqual({ open: false, opensAt: t("2026-11-26T02:00:00Z") });
    // A week-long window is always open.
    expect(windowState(t("2026-11-25T10:00:00Z"), [{ days: ["Mon"], start: "00:00", lengthMinutes: 7 * 24 * 60 }]).open).toBe(true);
  });
});

describe("rollout jitter", () => {
  it("is stable per node and release, within bounds, and spreads a fleet", () => {
    expect(jitterMs("node-a", "0.2.0", 0)).toBe(0);
    expect(jitterMs("node-a", "0.2.0", 600)).toBe(jitterMs("node-a", "0.2.0", 600));
    const spread = Array.from({ length: 200 }, (_, i) => jitterMs(`node-${i}`, "0.2.0", 600));
    expect(Math.min(...spread)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...spread)).toBeLessThanOrEqual(600_000);
    // 200 nodes over 10 minutes: each 2-minute bucket gets some.
    const buckets = new Set(spread.map((j) => Math.floor(j / 120_000)));
    expect(buckets.size).toBe(5);
    expect(jitterMs("node-a", "0.2.0", 600)).not.toBe(jitterMs("node-a", "0.3.0", 600));
  });
});

describe("nextStep", () => {
  const now = t("2026-11-23T12:00:00Z"); // Monday noon
  const cfg = (over: Partial<PolicyInput["config"]> = {}): PolicyInput["config"] => ({
    checkIntervalSeconds: 600,
    windows: [],
    jitterSeconds: 0,
    reboot: { strategy: "immediate", maxConcurrent: 1, lockTTLSeconds: 900 },
    ...over,
  });
  const step = (state: Partial<UpdaterState>, config = cfg(), bad: string[] = [], at = now) =>
    nextStep({ now: at, config, seed: "node-a", state: { lock: "none", ...state }, bad: new Set(bad) });
  const checked = { lastCheckAt: now - 60_000 };
  const avail = (version: string, seenAgo = 0) => ({ available: { version, firstSeenAt: now - seenAgo } });

  it("checks first, then every interval; waits in between", () => {
    expect(step({})).toMatchObject({ action: "check", reason: "never checked" });
    expect(step(checked)).toEqual({ action: "wait", reason: "up to date", wakeAt: now + 540_000 });
    expect(step({ lastCheckAt: now - 600_000 })).toMatchObject({ action: "check", reason: "check interval passed" });
  });

  it("downloads then stages a new release once this node's jitter passed", () => {
    const j = jitterMs("node-a", "0.2.0", 3600);
    expect(j).toBeGreaterThan(0);
    const jittered = cfg({ jitterSeconds: 3600, checkIntervalSeconds: 7200 });
    const early = step({ ...checked, ...avail("0.2.0") }, jittered);
    expect(early).toMatchObject({ action: "wait", wakeAt: now + j });
    expect(early.reason).toMatch(/0\.2\.0 available; this node's rollout jitter ends/);
    expect(step({ ...checked, ...avail("0.2.0", j) }, jittered)).toMatchObject({ action: "download", version: "0.2.0" });
    expect(step({ ...checked, ...avail("0.2.0"), downloaded: "0.2.0" })).toMatchObject({ action: "stage", version: "0.2.0" });
  });

  it("never starts on a release the fleet marked bad, and unstages one marked after staging", () => {
    expect(step({ ...checked, ...avail("0.3.0") }, cfg(), ["0.3.0"])).toMatchObject({ action: "wait", reason: "0.3.0 is marked bad by the fleet" });
    expect(step({ ...checked, ...avail("0.3.0"), staged: "0.3.0" }, cfg(), ["0.3.0"])).toMatchObject({ action: "unstage", version: "0.3.0" });
  });

  it("immediate: reboots once staged, whatever the windows", () => {
    const closed = cfg({ windows: [{ days: ["Sat"], start: "23:00", lengthMinutes: 60 }] });
    expect(step({ ...checked, ...avail("0.2.0"), staged: "0.2.0" }, closed)).toMatchObject({ action: "reboot", version: "0.2.0" });
  });

  it("window: stages any time but reboots only inside a window, waking when it opens", () => {
    const w = cfg({ windows: [{ days: ["Sat"], start: "23:00", lengthMinutes: 120 }], reboot: { strategy: "window", maxConcurrent: 1, lockTTLSeconds: 900 } });
    expect(step({ ...checked, ...avail("0.2.0"), downloaded: "0.2.0" }, w)).toMatchObject({ action: "stage" });
    const staged = { ...avail("0.2.0"), staged: "0.2.0", lastCheckAt: now };
    expect(step(staged, w)).toEqual({ action: "wait", reason: "0.2.0 staged; window closed until 2026-11-28T23:00:00.000Z", wakeAt: now + 600_000 });
    // Keeps checking while it waits (a newer release may replace the staged one).
    expect(step({ ...staged, lastCheckAt: now - 600_000 }, w)).toMatchObject({ action: "check" });
    const sunday = t("2026-11-29T00:30:00Z");
    expect(step({ ...staged, lastCheckAt: sunday }, w, [], sunday)).toMatchObject({ action: "reboot", reason: "0.2.0 staged; window open" });
    // Just before the window with a long check interval: wake at the opening.
    const sat = t("2026-11-28T22:59:00Z");
    const long = { ...w, checkIntervalSeconds: 86400 };
    expect(step({ ...staged, lastCheckAt: sat }, long, [], sat)).toMatchObject({ action: "wait", wakeAt: t("2026-11-28T23:00:00Z") });
  });

  it("coordinated: asks for a slot only inside the window, reboots holding it, gives it back if the window closed", () => {
    const co = cfg({ windows: [{ days: ["Mon"], start: "11:00", lengthMinutes: 120 }], reboot: { strategy: "coordinated", maxConcurrent: 1, lockTTLSeconds: 900 } });
    const staged = { ...checked, ...avail("0.2.0"), staged: "0.2.0" };
    expect(step(staged, co)).toMatchObject({ action: "acquire-lock", version: "0.2.0" });
    expect(step({ ...staged, lock: "held" }, co)).toMatchObject({ action: "reboot", reason: "0.2.0 staged; holding a reboot slot" });
    const later = t("2026-11-23T13:00:00Z");
    expect(step({ ...staged, lock: "held", lastCheckAt: later }, co, [], later)).toMatchObject({ action: "release-lock" });
    expect(step({ ...staged, lastCheckAt: later }, co, [], later)).toMatchObject({ action: "wait", reason: "0.2.0 staged; window closed until 2026-11-30T11:00:00.000Z" });
    // Without windows: coordinated means "any time, holding a slot".
    expect(step(staged, cfg({ reboot: { strategy: "coordinated", maxConcurrent: 1, lockTTLSeconds: 900 } }))).toMatchObject({ action: "acquire-lock" });
    expect(step({ ...checked, lock: "held" }, co)).toMatchObject({ action: "release-lock", reason: "holding a reboot slot with nothing staged" });
  });

  it("off: stages and waits for an operator", () => {
    const off = cfg({ reboot: { strategy: "off", maxConcurrent: 1, lockTTLSeconds: 900 } });
    expect(step({ ...checked, ...avail("0.2.0"), staged: "0.2.0" }, off)).toMatchObject({ action: "wait", reason: "0.2.0 staged; reboot strategy off: waiting for an operator" });
  });

  it("a newer release than the staged one is downloaded and staged over it", () => {
    expect(step({ ...checked, ...avail("0.3.0"), staged: "0.2.0", downloaded: "0.2.0" }, cfg({ reboot: { strategy: "off", maxConcurrent: 1, lockTTLSeconds: 900 } }))).toMatchObject({ action: "download", version: "0.3.0" });
  });
});
