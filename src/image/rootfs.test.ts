import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BASE_LINKS, IMAGE_PATHS, VERSION_DIR, VERSIONED_PATHS, linkText, listTree, stageVersioned } from "./rootfs.js";

describe("root file system split into base and per-build part", () => {
  let dir = "";
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("links every fixed path the node reads into VERSION_DIR, and the entry's node_modules back", () => {
    for (const [path, target] of BASE_LINKS) {
      expect(target.startsWith(`${VERSION_DIR}/`)).toBe(true);
      expect(path.startsWith(`${VERSION_DIR}/`)).toBe(false);
      expect(posix.resolve(dirname(path), linkText(path, target))).toBe(target);
    }
    expect(BASE_LINKS.map(([p]) => p)).toEqual([IMAGE_PATHS.entry, IMAGE_PATHS.buildJson, IMAGE_PATHS.osRelease]);
    const back = VERSIONED_PATHS.nodeModulesLink;
    expect(posix.resolve(dirname(back), linkText(back, IMAGE_PATHS.nodeModules))).toBe(IMAGE_PATHS.nodeModules);
  });

  it("stages only VERSION_DIR: entry, build.json, os-release and the node_modules link", () => {
    dir = mkdtempSync(join(tmpdir(), "cairn-rootfs-"));
    const entry = join(dir, "machined.mjs");
    writeFileSync(entry, "console.log(1);\n");
    const tree = join(dir, "tree");
    const build = { version: "1.2.3", buildId: "b", arch: "amd64", kernel: "k", node: "n" };
    stageVersioned(tree, { entryBundle: entry, build });
    expect(listTree(tree)).toEqual(["/cairn/", "/cairn/build.json", "/cairn/machined.mjs", "/cairn/node_modules", "/cairn/os-release"]);
    expect(readFileSync(join(tree, VERSIONED_PATHS.osRelease), "utf8")).toMatch(/^VERSION_ID=1\.2\.3$/m);
    expect(JSON.parse(readFileSync(join(tree, VERSIONED_PATHS.buildJson), "utf8"))).toEqual(build);
    expect(readlinkSync(join(tree, VERSIONED_PATHS.nodeModulesLink))).toBe("../usr/lib/cairn/node_modules");
  });
});
