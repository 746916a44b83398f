import { openSync, closeSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { countOpenFds } from "./open-fds.js";

describe("countOpenFds", () => {
  it("counts a descriptor while it is open and not after it is closed", async () => {
    const before = await countOpenFds();
    const fd = openSync("/proc/self/status", "r");
    const during = await countOpenFds();
    closeSync(fd);
    expect(during).toBe(before + 1);
    expect(await countOpenFds()).toBe(before);
  });
});
