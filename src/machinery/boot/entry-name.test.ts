import { describe, expect, it } from "vitest";
import { countedBootName, entrySlot, formatEntryName, parseEntryName } from "./entry-name.js";

describe("boot entry names with counters", () => {
  it("parses names without, with fresh and with used counters", () => {
    expect(parseEntryName("cairn-a.conf")).toEqual({ file: "cairn-a.conf", id: "cairn-a", triesLeft: undefined, triesDone: 0 });
    expect(parseEntryName("cairn-b+3.conf")).toEqual({ file: "cairn-b+3.conf", id: "cairn-b", triesLeft: 3, triesDone: 0 });
    expect(parseEntryName("cairn-b+0-3.conf")).toEqual({ file: "cairn-b+0-3.conf", id: "cairn-b", triesLeft: 0, triesDone: 3 });
    expect(parseEntryName("loader.txt")).toBeUndefined();
    expect(parseEntryName(".cairn-b.conf.tmp")).toBeUndefined();
  });

  it("formats the inverse", () => {
    for (const n of ["cairn-a.conf", "cairn-b+3.conf", "cairn-b+1-2.conf"]) {
      const p = parseEntryName(n)!;
      expect(formatEntryName(p.id, p.triesLeft, p.triesDone)).toBe(n);
    }
  });

  it("counts a boot like systemd-boot: +3 → +2-1 → +1-2 → +0-3, then stays", () => {
    const names = ["cairn-b+3.conf"];
    for (let i = 0; i < 4; i++) names.push(countedBootName(parseEntryName(names.at(-1)!)!));
    expect(names).toEqual(["cairn-b+3.conf", "cairn-b+2-1.conf", "cairn-b+1-2.conf", "cairn-b+0-3.conf", "cairn-b+0-3.conf"]);
    expect(countedBootName(parseEntryName("cairn-a.conf")!)).toBe("cairn-a.conf");
  });

  it("maps ids to slots", () => {
    expect(entrySlot("cairn-a")).toBe("A");
    expect(entrySlot("cairn-b")).toBe("B");
    expect(entrySlot("other")).toBeUndefined();
  });
});
