import { describe, expect, it } from "vitest";
import { basicAuth, parseChallenge } from "./auth.js";

describe("registry auth", () => {
  it("parses a bearer challenge", () => {
    const ch = parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:app:pull"');
    expect(ch).toEqual({
      scheme: "bearer",
      params: { realm: "https://auth.example/token", service: "registry.example", scope: "repository:app:pull" },
    });
  });

  it("encodes basic credentials", () => {
    expect(basicAuth({ username: "u", password: "p:w" })).toBe(`Basic ${Buffer.from("u:p:w").toString("base64")}`);
  });
});
