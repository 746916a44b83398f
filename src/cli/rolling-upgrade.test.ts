import { describe, expect, it } from "vitest";
import { SlotState, type VersionResponse } from "../api/index.js";
import { rollOut, rolloutReport, unhealthyReason, type NodeOutcome } from "./rolling-upgrade.js";

const version = (over: Partial<VersionResponse> = {}): VersionResponse =>
  ({
    osVersion: "2.0.0",
    bootedSlot: "B",
    maintenance: false,
    rolledBackFromVersion: "",
    rollbackReason: "",
    slots: [
      { name: "A", version: "0.1.0", state: SlotState.SLOT_STATE_GOOD, triesLeft: 0, isDefault: false },
      { name: "B", version: "2.0.0", state: SlotState.SLOT_STATE_GOOD, triesLeft: 0, isDefault: true },
    ],
    ...over,
  }) as VersionResponse;
const want = { version: "2.0.0", slot: "B" };

describe("health gate verdict", () => {
  it("is healthy only blessed, on the wanted version and slot, with no failing service", () => {
    expect(unhealthyReason(version(), [{ id: "machined", state: "Running", health: "ok" }], want)).toBeUndefined();
    const pending = version({ slots: [{ name: "B", version: "2.0.0", state: SlotState.SLOT_STATE_PENDING, triesLeft: 2, isDefault: true }] });
    expect(unhealthyReason(pending, [], want)).toBe("slot B is PENDING (tries left 2): not blessed yet");
    expect(unhealthyReason(version(), [{ id: "apid", state: "Failed", health: "failing" }], want)).toBe("services not healthy: apid (Failed, failing)");
    expect(unhealthyReason(version({ osVersion: "0.1.0", bootedSlot: "A", rolledBackFromVersion: "2.0.0", rollbackReason: "tries ran out" }), [], want)).toBe(
      "runs 0.1.0 on slot A, expected 2.0.0 on slot B (rolled back from 2.0.0: tries ran out)",
    );
    expect(unhealthyReason(version({ maintenance: true }), [], want)).toBe("in maintenance mode");
  });
});

describe("rollOut", () => {
  const ok = (node: string): NodeOutcome => ({ node, result: "upgraded", summary: "upgraded", bootId: "b", slot: "B", version: "2.0.0", healthySeconds: 1 });

  it("never runs more than max-unavailable at once, in the order given", async () => {
    for (const max of [1, 2]) {
      let running = 0;
      let peak = 0;
      const started: string[] = [];
      const out = await rollOut(["a", "b", "c", "d", "e"], max, async (node) => {
        started.push(node);
        peak = Math.max(peak, ++running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        return ok(node);
      });
      expect(peak).toBe(max);
      expect(started).toEqual(["a", "b", "c", "d", "e"]);
      expect(out.every((o) => o.result === "upgraded")).toBe(true);
    }
  });

  it("stops at the first failure: the node in flight finishes (a), later ones are not attempted", async () => {
    const out = await rollOut(["a", "b", "c", "d"], 2, async (node) => {
      await new Promise((r) => setTimeout(r, node === "b" ? 10 : 60));
      if (node === "b") throw new Error("came back on 0.1.0");
      return ok(node);
    });
    expect(out.map((o) => o.result)).toEqual(["upgraded", "failed", "not-attempted", "not-attempted"]);
    const report = rolloutReport("2.0.0", out);
    expect(report.ok).toBe(false);
    expect(report.text.split("\n")).toEqual([
      "a: upgraded; healthy (blessed, services ok) after 1.0s",
      "b: FAILED: came back on 0.1.0",
      "c: not attempted (the rollout stopped)",
      "d: not attempted (the rollout stopped)",
      "rolling upgrade to 2.0.0 stopped at b: 1/4 nodes on 2.0.0, 2 not attempted",
    ]);
  });
});
