import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { removeFileDurable, writeFileAtomic } from "./atomic-write.js";

describe("writeFileAtomic", () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), "cairn-atomic-"));
    dirs.push(d);
    return d;
  };
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("creates missing parent directories (0700) and writes the file with its mode, leaving no temp file", async () => {
    const root = tmp();
    const path = join(root, "a", "b", "active.yaml");
    await writeFileAtomic(path, "x: 1\n", { mode: 0o640 });
    expect(readFileSync(path, "utf8")).toBe("x: 1\n");
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(statSync(join(root, "a")).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(root, "a", "b"))).toEqual(["active.yaml"]);
  });

  it("replaces a file whole, and with overwrite: false refuses an existing one with ALREADY_EXISTS", async () => {
    const path = join(tmp(), "f");
    await writeFileAtomic(path, "old");
    await writeFileAtomic(path, "new");
    expect(readFileSync(path, "utf8")).toBe("new");
    await expect(writeFileAtomic(path, "other", { overwrite: false })).rejects.toMatchObject({ code: "ALREADY_EXISTS" });
    expect(readFileSync(path, "utf8")).toBe("new");
  });

  it("removeFileDurable removes a file and ignores one that is gone", async () => {
    const path = join(tmp(), "f");
    await writeFileAtomic(path, "x");
    await removeFileDurable(path);
    await removeFileDurable(path);
    expect(() => statSync(path)).toThrow();
  });
});
