import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findForbidden } from "./forbidden-files.js";

describe("forbidden files", () => {
  it("flags shells, busybox and package managers by base name", () => {
    const list = ["/usr/bin/node", "/bin/sh", "/usr/bin/bash", "/bin/dash", "/bin/ash", "/bin/busybox", "/usr/bin/apt", "/usr/bin/dpkg"];
    expect(findForbidden(list)).toEqual(list.slice(1));
  });

  it("does not flag look-alikes", () => {
    expect(findForbidden(["/usr/lib/cairn/sh.json", "/lib/modules/x/flash", "/etc/shells.d"])).toEqual([]);
  });

  // When images were built in this tree (dist/ or one level below), check the lists they shipped with.
  const dist = join(process.cwd(), "dist");
  const dirs = existsSync(dist) ? [dist, ...readdirSync(dist).map((d) => join(dist, d)).filter((d) => statSync(d).isDirectory())] : [];
  const lists = dirs.flatMap((d) => readdirSync(d).filter((f) => f.endsWith(".files.txt")).map((f) => join(d, f)));
  it.skipIf(lists.length === 0)("no built image in dist/ ships a shell or package manager", () => {
    for (const f of lists) {
      const paths = readFileSync(f, "utf8").split("\n").filter(Boolean);
      expect(paths).toContain("/usr/bin/node");
      expect(findForbidden(paths), f).toEqual([]);
    }
  });
});
