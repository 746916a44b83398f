import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { CairnError } from "../errors/index.js";
import { DETAILS_METADATA_KEY, toServiceError } from "./status.js";

describe("toServiceError", () => {
  it("maps config errors to INVALID_ARGUMENT with every field path", () => {
    const err = new CairnError("CONFIG_INVALID", "2 problems", {
      details: [
        { path: "machine.hostname", message: "bad" },
        { path: "cluster.name", message: "missing" },
      ],
    });
    const s = toServiceError(err);
    expect(s.code).toBe(status.INVALID_ARGUMENT);
    expect(s.details).toContain("machine.hostname: bad");
    expect(s.details).toContain("cluster.name: missing");
    expect(JSON.parse(String(s.metadata?.get(DETAILS_METADATA_KEY)[0]))).toHaveLength(2);
  });
  it("hides the message of an unexpected error", () => {
    const s = toServiceError(new Error("EACCES /system/state/secret.key"));
    expect(s.code).toBe(status.INTERNAL);
    expect(s.details).not.toContain("secret");
  });
});
