import { describe, expect, it } from "vitest";
import { bootEntry, SORT_KEY } from "./boot-entry.js";
import { parseLoaderEntry, selectDefaultEntry, versionCompare, type LoaderEntry } from "./entry-order.js";

const entry = (file: string, slot: "A" | "B", version: string, sortKey: string): LoaderEntry => parseLoaderEntry(file, bootEntry(slot, version, sortKey))!;
const pick = (...es: LoaderEntry[]) => selectDefaultEntry(es)?.file;

describe("systemd-boot's choice among our two entries", () => {
  it("reads the keys it orders by", () => {
    const e = entry("cairn-b+2-1.conf", "B", "0.2.0", SORT_KEY.preferred);
    expect(e).toMatchObject({ id: "cairn-b", triesLeft: 2, triesDone: 1, sortKey: "cairn-0", version: "0.2.0", slotOption: "B" });
  });

  it("boots the factory entry when it is alone", () => {
    expect(pick(entry("cairn-a.conf", "A", "0.1.0", SORT_KEY.factory))).toBe("cairn-a.conf");
  });

  it("keeps the factory entry first until the installer demotes it (a cut between the two writes is safe)", () => {
    expect(pick(entry("cairn-a.conf", "A", "0.1.0", SORT_KEY.factory), entry("cairn-b+3.conf", "B", "0.2.0", SORT_KEY.preferred))).toBe("cairn-a.conf");
  });

  it("boots the preferred entry while it has tries left, and the fallback once they ran out", () => {
    const a = entry("cairn-a.conf", "A", "0.1.0", SORT_KEY.fallback);
    expect(pick(a, entry("cairn-b+3.conf", "B", "0.2.0", SORT_KEY.preferred))).toBe("cairn-b+3.conf");
    expect(pick(a, entry("cairn-b+1-2.conf", "B", "0.2.0", SORT_KEY.preferred))).toBe("cairn-b+1-2.conf");
    expect(pick(a, entry("cairn-b+0-3.conf", "B", "0.2.0", SORT_KEY.preferred))).toBe("cairn-a.conf");
  });

  it("lets sort-key beat version (rollback to an older version) and version break a sort-key tie", () => {
    expect(pick(entry("cairn-a.conf", "A", "0.1.0", SORT_KEY.preferred), entry("cairn-b.conf", "B", "0.2.0", SORT_KEY.fallback))).toBe("cairn-a.conf");
    expect(pick(entry("cairn-a.conf", "A", "0.1.0", SORT_KEY.preferred), entry("cairn-b+3.conf", "B", "0.2.0", SORT_KEY.preferred))).toBe("cairn-b+3.conf");
  });

  it("still boots an entry out of tries when nothing else is there", () => {
    expect(pick(entry("cairn-b+0-3.conf", "B", "0.2.0", SORT_KEY.preferred))).toBe("cairn-b+0-3.conf");
  });

  it("compares versions like strverscmp for our strings", () => {
    expect(versionCompare("0.10.0", "0.9.0")).toBeGreaterThan(0);
    expect(versionCompare("0.2.0", "0.2.0")).toBe(0);
    expect(versionCompare("cairn-a", "cairn-b")).toBeLessThan(0);
  });
});
