import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseResolvConf, renderResolvConf, writeResolvConf } from "./resolv-conf.js";

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

describe("writeResolvConf", () => {
  it("survives concurrent writers (each has its own temp file) and leaves one whole file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-resolv-"));
    try {
      const path = join(dir, "run", "resolv.conf");
      await Promise.all(Array.from({ length: 8 }, (_, i) => writeResolvConf(path, renderResolvConf([`10.0.0.${i}`], []))));
      expect(readFileSync(path, "utf8")).toMatch(/^# Written by Cairn machined; changes are overwritten\.\nnameserver 10\.0\.0\.\d\n$/);
      expect(readdirSync(join(dir, "run"))).toEqual(["resolv.conf"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
