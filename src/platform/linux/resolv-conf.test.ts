import { describe, expect, it } from "vitest";
import { parseResolvConf, renderResolvConf } from "./resolv-conf.js";

describe("resolv.conf", () => {
  it("dedupes, caps at three nameservers, adds search domains", () => {
    expect(renderResolvConf(["10.0.2.3", "1.1.1.1", "10.0.2.3", "8.8.8.8", "9.9.9.9"], ["cluster.local"])).toBe(
      "# Written by Cairn machined; changes are overwritten.\nsearch cluster.local\nnameserver 10.0.2.3\nnameserver 1.1.1.1\nnameserver 8.8.8.8\n",
    );
  });

  it("reads back what it writes", () => {
    expect(parseResolvConf(renderResolvConf(["10.0.2.3", "1.1.1.1"], ["a.example"]))).toEqual({ nameservers: ["10.0.2.3", "1.1.1.1"], search: ["a.example"] });
    expect(parseResolvConf("# nothing\n")).toEqual({ nameservers: [], search: [] });
  });
});
