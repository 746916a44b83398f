import { describe, expect, it } from "vitest";
import { parseReference } from "./reference.js";

const D = `sha256:${"a".repeat(64)}`;

describe("parseReference", () => {
  it("splits registry, repository and tag", () => {
    expect(parseReference("127.0.0.1:5000/cairn/busybox:1.0")).toMatchObject({
      registry: "127.0.0.1:5000",
      repository: "cairn/busybox",
      tag: "1.0",
      name: "127.0.0.1:5000/cairn/busybox:1.0",
    });
  });

  it("defaults to Docker Hub, library/ and latest", () => {
    expect(parseReference("busybox")).toMatchObject({ registry: "docker.io", repository: "library/busybox", tag: "latest" });
  });

  it("keeps a digest and needs no tag with it", () => {
    expect(parseReference(`reg.example/app@${D}`)).toMatchObject({ tag: undefined, digest: D, name: `reg.example/app@${D}` });
  });

  it("names the field and the problem", () => {
    expect(() => parseReference("reg.example/App", "machine.workloads[0].image")).toThrow(/machine.workloads\[0\].image: invalid repository name/);
    expect(() => parseReference("reg.example/app@sha256:12")).toThrow(/digest must be/);
  });
});
