import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MountTable, mountFs, unmountFs } from "./mount.js";
import { isCairnError } from "../../errors/index.js";

const isRoot = process.getuid?.() === 0;

// Mounting needs CAP_SYS_ADMIN; on a non-root host these tests cannot run.
describe.skipIf(!isRoot)("mount (root only: needs CAP_SYS_ADMIN)", () => {
  it("mounts a tmpfs, sees it in /proc/self/mounts, unmounts in reverse", () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-mount-"));
    const inner = join(dir, "inner");
    const table = new MountTable();
    try {
      table.mount({ source: "cairn-test", target: dir, fstype: "tmpfs", data: "size=1m" });
      table.mount({ source: "cairn-test-inner", target: inner, fstype: "tmpfs", data: "size=1m" });
      writeFileSync(join(inner, "x"), "y");
      expect(readFileSync("/proc/self/mounts", "utf8")).toContain(` ${inner} tmpfs `);
      expect(table.reversed().map((m) => m.target)).toEqual([inner, dir]);
      expect(table.unmountAll()).toEqual([]);
      expect(readFileSync("/proc/self/mounts", "utf8")).not.toContain(` ${dir} `);
      expect(existsSync(join(inner, "x"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports what it was doing and the errno name", () => {
    try {
      mountFs({ source: "/dev/cairn-missing", target: join(tmpdir(), "cairn-mount-x"), fstype: "ext4" });
      expect.unreachable();
    } catch (e) {
      expect(isCairnError(e)).toBe(true);
      expect((e as Error).message).toMatch(/^mount \/dev\/cairn-missing → .*cairn-mount-x \(ext4\): ENOENT$/);
      expect((e as { code: string }).code).toBe("NOT_FOUND");
    }
    expect(() => unmountFs("/nonexistent-cairn")).toThrow(/umount \/nonexistent-cairn: ENOENT/);
  });
});
