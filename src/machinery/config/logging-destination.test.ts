import { describe, expect, it } from "vitest";
import { CairnError } from "../../errors/index.js";
import { parseMachineConfig } from "./parse.js";
import { sampleConfigYaml } from "./testdata/sample.js";

const withDestination = (endpoint: string) => sampleConfigYaml.replace(/^machine:\n/m, `machine:\n  logging:\n    destinations:\n      - endpoint: "${endpoint}"\n`);

describe("machine.logging.destinations", () => {
  it("accepts tcp and udp endpoints (IPv6 in brackets) and defaults the format to json_lines", () => {
    for (const ep of ["tcp://10.0.2.2:5170", "udp://[fd00::1]:514", "tcp://logs.example.org:1"]) {
      expect(parseMachineConfig(withDestination(ep)).machine.logging.destinations).toEqual([{ endpoint: ep, format: "json_lines" }]);
    }
  });

  it("names the field for a bad scheme, a missing port or a port out of range", () => {
    for (const ep of ["http://h:80", "tcp://h", "tcp://h:0", "tcp://h:65536", "tcp://a/b:1"]) {
      let err: unknown;
      try {
        parseMachineConfig(withDestination(ep), "node.yaml");
      } catch (e) {
        err = e;
      }
      expect(err, ep).toBeInstanceOf(CairnError);
      expect((err as CairnError).details.map((d) => d.path), ep).toEqual(["machine.logging.destinations[0].endpoint"]);
    }
  });
});
