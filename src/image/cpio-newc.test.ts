import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { writeCpio } from "./cpio-newc.js";

describe("writeCpio", () => {
  const archive = writeCpio([
    { path: "dev", type: "dir" },
    { path: "dev/console", type: "char", major: 5, minor: 1 },
    { path: "/init", type: "file", data: Buffer.from("abc"), mode: 0o755 },
  ]);

  it("is 4-byte aligned and ends with the trailer", () => {
    expect(archive.length % 4).toBe(0);
    expect(archive.includes(Buffer.from("TRAILER!!!\0"))).toBe(true);
  });

  it("is readable by GNU cpio with the right types and modes", () => {
    const res = spawnSync("cpio", ["-itv", "--quiet"], { input: archive, encoding: "utf8" });
    if (res.error) return; // cpio not installed: the format checks above still ran
    expect(res.status).toBe(0);
    const lines = res.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^drwxr-xr-x .* dev$/);
    expect(lines[1]).toMatch(/^crw------- .*5,\s+1 .* dev\/console$/);
    expect(lines[2]).toMatch(/^-rwxr-xr-x .* 3 .* init$/);
  });
});
