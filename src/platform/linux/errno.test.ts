import { describe, expect, it } from "vitest";
import { codeForErrno, errnoName, nodeError, sysError } from "./errno.js";

describe("errno mapping", () => {
  it("names errno numbers and maps them to Cairn codes", () => {
    expect(errnoName(16)).toBe("EBUSY");
    expect(errnoName(11)).toBe("EAGAIN");
    expect(errnoName(99999)).toBe("errno 99999");
    expect(codeForErrno("ENOENT")).toBe("NOT_FOUND");
    expect(codeForErrno("EPERM")).toBe("PERMISSION_DENIED");
    expect(codeForErrno("EWHATEVER")).toBe("INTERNAL");
  });

  it("says what was being done", () => {
    const e = sysError("mount /dev/vda4 → /var", 16);
    expect(e.message).toBe("mount /dev/vda4 → /var: EBUSY");
    expect(e.code).toBe("FAILED_PRECONDITION");
    expect(e.cause).toEqual({ errno: 16, name: "EBUSY" });
    const n = nodeError("read /proc/x", Object.assign(new Error("x"), { code: "ENOENT" }));
    expect([n.code, n.message]).toEqual(["NOT_FOUND", "read /proc/x: ENOENT"]);
    expect(nodeError("do y", new Error("boom")).message).toBe("do y: boom");
  });
});
