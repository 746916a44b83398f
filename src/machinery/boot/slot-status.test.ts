import { describe, expect, it } from "vitest";
import { bootEntry, SORT_KEY } from "./boot-entry.js";
import { parseLoaderEntry } from "./entry-order.js";
import { assessBoot } from "./slot-status.js";

const e = (file: string, slot: "A" | "B", version: string, sortKey: string) => parseLoaderEntry(file, bootEntry(slot, version, sortKey))!;

describe("assessBoot", () => {
  it("a factory node: A good and default, B empty, no trial", () => {
    const a = assessBoot([e("cairn-a.conf", "A", "0.1.0", SORT_KEY.factory)], { slot: "A", version: "0.1.0" });
    expect(a.slots.map((s) => [s.name, s.version, s.health, s.isDefault])).toEqual([["A", "0.1.0", "good", true], ["B", "", "empty", false]]);
    expect(a.trial).toBe(false);
    expect(a.rolledBackFrom).toBeUndefined();
  });

  it("after install, before reboot: B pending with 3 tries and default", () => {
    const a = assessBoot([e("cairn-a.conf", "A", "0.1.0", SORT_KEY.fallback), e("cairn-b+3.conf", "B", "0.2.0", SORT_KEY.preferred)], { slot: "A", version: "0.1.0" });
    expect(a.slots[1]).toMatchObject({ version: "0.2.0", health: "pending", triesLeft: 3, isDefault: true });
    expect(a.slots[0]).toMatchObject({ health: "good", isDefault: false });
    expect(a.trial).toBe(false);
  });

  it("a trial boot of B, and B on its last try", () => {
    const entries = (f: string) => [e("cairn-a.conf", "A", "0.1.0", SORT_KEY.fallback), e(f, "B", "0.2.0", SORT_KEY.preferred)];
    const t = assessBoot(entries("cairn-b+2-1.conf"), { slot: "B", version: "0.2.0" });
    expect(t.trial).toBe(true);
    expect(t.slots[1]).toMatchObject({ health: "pending", triesLeft: 2, isDefault: true });
    const last = assessBoot(entries("cairn-b+0-3.conf"), { slot: "B", version: "0.2.0" });
    expect(last.slots[1]).toMatchObject({ health: "pending", triesLeft: 0 });
    expect(last.rolledBackFrom).toBeUndefined();
  });

  it("a fallback boot: B ran out of tries, A booted", () => {
    const a = assessBoot([e("cairn-a.conf", "A", "0.1.0", SORT_KEY.fallback), e("cairn-b+0-3.conf", "B", "0.3.0", SORT_KEY.preferred)], { slot: "A", version: "0.1.0" });
    expect(a.slots[1]).toMatchObject({ health: "bad", triesLeft: 0, isDefault: false });
    expect(a.slots[0]).toMatchObject({ health: "good", isDefault: true });
    expect(a.rolledBackFrom).toMatchObject({ slot: "B", version: "0.3.0" });
    expect(a.rolledBackFrom?.reason).toMatch(/slot B \(0\.3\.0\) used all 3 boot tries/);
  });

  it("a booted slot without any entry is good (no EFI partition readable)", () => {
    expect(assessBoot([], { slot: "B", version: "1.0.0" }).slots[1]).toMatchObject({ health: "good", isDefault: true, version: "1.0.0" });
  });
});
