import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { run } from "./exec.js";
import { appendSquashfs, makeBaseSquashfs } from "./squashfs.js";

const haveTools = spawnSync("mksquashfs", ["-version"]).status === 0 && spawnSync("unsquashfs", ["-help"]).error === undefined;

describe.skipIf(!haveTools)("base squashfs plus appended per-build directory", () => {
  let dir = "";
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("merges the appended top-level directory into the root without renaming anything", () => {
    dir = mkdtempSync(join(tmpdir(), "cairn-sqfs-"));
    const base = join(dir, "base");
    mkdirSync(join(base, "usr/lib/cairn"), { recursive: true });
    writeFileSync(join(base, "usr/lib/cairn/lib.txt"), "base\n");
    symlinkSync("../../../cairn/machined.mjs", join(base, "usr/lib/cairn/machined.mjs"));
    const add = join(dir, "add");
    mkdirSync(join(add, "cairn"), { recursive: true });
    writeFileSync(join(add, "cairn/machined.mjs"), "console.log(1);\n");
    const img = join(dir, "root.sqfs");
    makeBaseSquashfs(base, img, ["/usr/lib/cairn/lib.txt"]);
    appendSquashfs(add, img, ["/usr/lib/cairn/lib.txt", "/cairn/machined.mjs"]);
    const paths = run("unsquashfs", ["-lc", "-d", "", img]).split("\n").filter(Boolean).sort();
    expect(paths).toEqual(["/cairn/machined.mjs", "/usr/lib/cairn/lib.txt", "/usr/lib/cairn/machined.mjs"]);
    expect(run("unsquashfs", ["-s", img])).toMatch(/Compression zstd[\s\S]*Block size 131072/);
  });

  it("refuses a listing with a shell before running mksquashfs", () => {
    dir = mkdtempSync(join(tmpdir(), "cairn-sqfs-"));
    expect(() => appendSquashfs(dir, join(dir, "x.sqfs"), ["/bin/sh"])).toThrow(/must not contain \/bin\/sh/);
  });
});
