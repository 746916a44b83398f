import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import type { VersionResponse } from "../api/index.js";
import type { MachineClient } from "../machinery/client/index.js";
import type { Dial } from "./context.js";
import { track } from "./track-lifecycle.js";
import { formatDuration, waitForBoot } from "./wait-for-boot.js";

// The verdicts of a tracked call, against a scripted node: what Version
// answers before the call and on each poll after it.

const v = (p: Partial<VersionResponse>): VersionResponse => ({ bootId: "old-boot-0000", bootedSlot: "A", osVersion: "0.1.0", maintenance: false, rolledBackFromVersion: "", rollbackReason: "", ...p }) as VersionResponse;

/** A Dial whose clients answer Version from `answers` in turn (an Error is thrown as the call failing). */
function scripted(answers: (VersionResponse | Error)[]): Dial {
  let i = 0;
  return () =>
    ({
      version: async () => {
        const a = answers[Math.min(i++, answers.length - 1)]!;
        if (a instanceof Error) throw a;
        return a;
      },
      close: () => undefined,
    }) as unknown as MachineClient;
}
const unavailable = Object.assign(new Error("unavailable"), { code: status.UNAVAILABLE, details: "No connection established" });
const client = (before: VersionResponse) => ({ version: async () => before }) as unknown as MachineClient;

describe("track", () => {
  it("an upgrade that comes back on the old version (automatic rollback) fails, naming why", async () => {
    const dial = scripted([unavailable, v({ bootId: "new-boot-1111", rolledBackFromVersion: "2.0.0", rollbackReason: "slot B (2.0.0) used all 3 boot tries without being blessed" })]);
    const r = track(client(v({})), dial, { action: "upgrade", goal: "new-boot", timeoutMs: 5_000, call: async () => ({ slot: "B", version: "2.0.0" }), expected: (x) => x });
    await expect(r).rejects.toThrow(
      "upgrade to 2.0.0 was rolled back: came back on 0.1.0 (slot A), expected 2.0.0 (slot B); boot old-boot… → new-boot…; rolled_back_from_version 2.0.0, rollback_reason: slot B (2.0.0) used all 3 boot tries without being blessed",
    );
  });

  it("an upgrade that lands reports both versions and slots", async () => {
    const dial = scripted([v({}), v({ bootId: "new-boot-1111", bootedSlot: "B", osVersion: "2.0.0" })]);
    const r = await track(client(v({})), dial, { action: "upgrade", goal: "new-boot", timeoutMs: 5_000, call: async () => ({ slot: "B", version: "2.0.0" }), expected: (x) => x });
    expect(r.summary).toMatch(/^upgraded: 0\.1\.0 \(slot A\) → 2\.0\.0 \(slot B\), boot old-boot… → new-boot… in \d+\.\ds$/);
  });

  it("times out with one line naming the last error", async () => {
    await expect(waitForBoot(scripted([unavailable]), { goal: "new-boot", oldBootId: "x", timeoutMs: 300, intervalMs: 50 })).rejects.toThrow(
      /^did not come back within 0s \(last error: UNAVAILABLE: No connection established\)$/,
    );
  });
});

describe("formatDuration", () => {
  it("writes durations the way --timeout takes them", () => {
    expect([300_000, 90_000, 3_000, 3_725_000].map(formatDuration)).toEqual(["5m0s", "1m30s", "3s", "1h2m5s"]);
  });
});
