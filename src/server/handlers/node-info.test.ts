import { describe, expect, it } from "vitest";
import { StatsResponse } from "../../api/index.js";
import { readStats } from "../../platform/linux/stats.js";
import { statsResponse } from "./node-info.js";

// The Stats reply must encode for real kernel figures: CPU time is fractional
// seconds, which a uint64 field cannot carry (this failed as "Error
// serializing response" on the first metal node).
describe("statsResponse", () => {
  it("encodes the host's real /proc figures", async () => {
    const msg = statsResponse(await readStats());
    const decoded = StatsResponse.decode(StatsResponse.encode(msg).finish());
    expect(decoded.cpu?.count).toBeGreaterThan(0);
    expect(decoded.cpu?.userSeconds).toBeGreaterThan(0);
    expect(decoded.memory?.total).toBeGreaterThan(0);
  });
});
