import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { deniedReason, FilePolicy } from "./file-policy.js";

describe("deniedReason", () => {
  it.each([
    "/system/state",
    "/system/state/config",
    "/dev/vda",
    "/proc/kcore",
    "/proc/kmsg",
    "/proc/1/root",
    "/proc/1/root/system/state/config",
    "/proc/self/cwd",
    "/proc/thread-self/fd/3",
    "/proc/42/environ",
    "/proc/42/task/43/environ",
    "/proc/self/map_files/x",
    "/sys/firmware/efi/efivars",
  ])("denies %s", (p) => expect(deniedReason(p)).toBeDefined());

  it.each(["/proc/meminfo", "/proc/1/status", "/proc/self/cmdline", "/sys/class/block/vda/uevent", "/var/log/machined.log", "/system"])("allows %s", (p) => {
    expect(deniedReason(p)).toBeUndefined();
  });
});

describe("FilePolicy on a directory tree (process-mode layout)", () => {
  const dir = mkdtempSync(join(tmpdir(), "cairn-policy-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "state"));
  mkdirSync(join(dir, "var", "log"), { recursive: true });
  writeFileSync(join(dir, "state", "config"), "secret");
  writeFileSync(join(dir, "var", "log", "a.log"), "a");
  writeFileSync(join(dir, "var", "spool"), "s");
  symlinkSync(join(dir, "state", "config"), join(dir, "var", "log", "evil"));
  symlinkSync(join(dir, "var", "spool"), join(dir, "var", "log", "sideways"));
  const hostPath = (p: string) =>
    p === "/var" || p.startsWith("/var/") ? join(dir, p) : p.startsWith("/system/state") ? join(dir, "state", p.slice(13)) : join(dir, "rootfs", p);
  const policy = new FilePolicy({ hostPath, paths: { state: join(dir, "state"), ephemeral: join(dir, "var") } });

  it("lets a reader read /var/log and an admin /var", async () => {
    await expect(policy.resolve("/var/log/a.log", ["os:reader"], "read")).resolves.toMatchObject({ path: "/var/log/a.log" });
    await expect(policy.resolve("/var/spool", ["os:reader"], "read")).rejects.toMatchObject({ code: "PERMISSION_DENIED", message: expect.stringContaining("/var/spool") });
    await expect(policy.resolve("/var/spool", ["os:admin"], "read")).resolves.toMatchObject({ path: "/var/spool" });
  });

  it("follows symlinks before deciding: into STATE for nobody, out of /var/log not for a reader", async () => {
    for (const roles of [["os:reader"], ["os:admin"]]) {
      await expect(policy.resolve("/var/log/evil", roles, "read")).rejects.toMatchObject({ code: "PERMISSION_DENIED", message: expect.stringMatching(/^\/var\/log\/evil: resolves to/) });
    }
    await expect(policy.resolve("/var/log/sideways", ["os:reader"], "read")).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    await expect(policy.resolve("/var/log/sideways", ["os:admin"], "read")).resolves.toBeDefined();
  });

  it("normalises .. before checking and maps a missing file to NOT_FOUND", async () => {
    await expect(policy.resolve("/var/log/../../system/state/config", ["os:admin"], "read")).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    await expect(policy.resolve("/var/log/nope", ["os:reader"], "read")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(policy.resolve("var/log", ["os:reader"], "read")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("lists anywhere but the denied roots", async () => {
    await expect(policy.resolve("/var", ["os:reader"], "list")).resolves.toBeDefined();
    await expect(policy.resolve("/system/state", ["os:admin"], "list")).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
  });
});
