import { describe, expect, it } from "vitest";
import { runHealthChecks, waitFor, type HealthCheck } from "./health.js";

const failing: HealthCheck = { name: "disk", check: () => ({ status: "failed", message: "no disk" }) };
const throwing: HealthCheck = {
  name: "boom",
  check: () => {
    throw new Error("kaput");
  },
};

describe("runHealthChecks", () => {
  it("is ok when every check is", async () => {
    expect(await runHealthChecks([waitFor("api", () => true, "down")])).toEqual({ status: "ok", problems: [] });
  });
  it("waits while a check is not ready and none failed", async () => {
    expect(await runHealthChecks([waitFor("api", () => false, "not serving")])).toEqual({ status: "waiting", problems: ["api: not serving"] });
  });
  it("fails when any check fails or throws, naming them all", async () => {
    const v = await runHealthChecks([waitFor("api", () => false, "not serving"), failing, throwing]);
    expect(v.status).toBe("failed");
    expect(v.problems).toEqual(["api: not serving", "disk: no disk", "boom: check threw: kaput"]);
  });
});
