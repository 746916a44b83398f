import { describe, expect, it } from "vitest";
import { METHODS } from "../../api/index.js";
import { RULES, isAllowed } from "./roles.js";

describe("RBAC rules", () => {
  it("has a rule for every generated method and nothing else", () => {
    expect(Object.keys(RULES).sort()).toEqual([...METHODS].sort());
  });
  it("lets a reader read but not reboot", () => {
    expect(isAllowed("version", ["os:reader"])).toBe(true);
    expect(isAllowed("reboot", ["os:reader"])).toBe(false);
    // Which files a reader may read is the server's file policy (server/file-policy.ts).
    expect(isAllowed("read", ["os:reader"])).toBe(true);
    for (const m of ["processes", "memory", "disks", "mounts", "netstat", "copy"] as const) expect(isAllowed(m, ["os:reader"])).toBe(true);
    expect(isAllowed("applyConfiguration", ["os:reader"])).toBe(false);
  });
  it("lets an operator reboot but not apply config or upgrade", () => {
    expect(isAllowed("reboot", ["os:operator"])).toBe(true);
    expect(isAllowed("serviceControl", ["os:operator"])).toBe(true);
    expect(isAllowed("applyConfiguration", ["os:operator"])).toBe(false);
    expect(isAllowed("upgrade", ["os:operator"])).toBe(false);
  });
  it("denies an unknown role everything", () => {
    for (const m of METHODS) expect(isAllowed(m, ["os:root"])).toBe(false);
  });
});
