import { lstatSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeFifo } from "./fifo.js";

describe("makeFifo", () => {
  it("creates a named pipe and names the path when it cannot", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-fifo-"));
    try {
      await makeFifo(join(dir, "out"));
      expect(lstatSync(join(dir, "out")).isFIFO()).toBe(true);
      await expect(makeFifo(join(dir, "out"))).rejects.toThrow(/mkfifo .*out: EEXIST/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
