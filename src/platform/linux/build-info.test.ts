import { describe, expect, it } from "vitest";
import { parseBuildInfo, readBuildInfo } from "./build-info.js";

describe("build.json", () => {
  it("parses the three fields", () => {
    expect(parseBuildInfo('{"version":"0.1.0","buildId":"abc123","arch":"amd64","extra":1}')).toEqual({
      version: "0.1.0",
      buildId: "abc123",
      arch: "amd64",
    });
  });

  it("names missing fields and broken JSON", () => {
    expect(() => parseBuildInfo('{"version":"0.1.0","arch":""}')).toThrow("read /usr/lib/cairn/build.json: missing or empty buildId, arch");
    expect(() => parseBuildInfo("{")).toThrow(/not JSON/);
  });

  it("a missing file is a FAILED_PRECONDITION with a hint", async () => {
    await expect(readBuildInfo("/nonexistent/build.json")).rejects.toMatchObject({
      code: "FAILED_PRECONDITION",
      message: "read /nonexistent/build.json: ENOENT",
      hint: expect.stringContaining("image builder"),
    });
  });
});
