import { describe, expect, it } from "vitest";
import { configUrlFromCmdline } from "./first-boot-config.js";

describe("configUrlFromCmdline", () => {
  it("finds the URL among other arguments", () => {
    expect(configUrlFromCmdline("console=ttyS0 cairn.config=http://10.0.2.2:8080/n1.yaml cairn.slot=A")).toBe("http://10.0.2.2:8080/n1.yaml");
  });
  it("ignores look-alikes", () => {
    expect(configUrlFromCmdline("console=ttyS0 xcairn.config=http://x")).toBeUndefined();
  });
});
