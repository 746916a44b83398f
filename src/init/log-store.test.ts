import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LogFiles } from "./log-files.js";
import { LogStore } from "./log-store.js";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "cairn-logs-"));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const record = (msg: string, component?: string) => `${JSON.stringify({ level: 30, time: Date.now(), msg, ...(component ? { component } : {}) })}\n`;

describe("LogStore", () => {
  it("routes records by component to their service's ring", async () => {
    const store = new LogStore(10, { api: "apid" });
    const sink = store.sink("machined");
    await new Promise<void>((r) => sink.write(record("boot") + record("serving", "api") + record("applied", "config"), () => r()));
    expect(store.services()).toEqual(["apid", "machined"]);
    expect(store.tail("apid", 0).map((l) => JSON.parse(l.message).msg)).toEqual(["serving"]);
    expect(store.tail("machined", 0).map((l) => JSON.parse(l.message).msg)).toEqual(["boot", "applied"]);
  });

  it("writes early lines to /var/log once persisted, then every new line, in order", async () => {
    const dir = tmp();
    const store = new LogStore(100);
    for (let i = 0; i < 5; i++) store.append({ service: "machined", timeUnixMs: 0, level: "info", message: `early ${i}` });
    await store.persistTo(dir);
    for (let i = 0; i < 5; i++) store.append({ service: "machined", timeUnixMs: 0, level: "info", message: `late ${i}` });
    store.append({ service: "apid", timeUnixMs: 0, level: "info", message: "api line" });
    await store.closeFiles();
    expect(readFileSync(join(dir, "machined.log"), "utf8")).toBe([0, 1, 2, 3, 4].map((i) => `early ${i}\n`).join("") + [0, 1, 2, 3, 4].map((i) => `late ${i}\n`).join(""));
    expect(readFileSync(join(dir, "apid.log"), "utf8")).toBe("api line\n");
    // After closing, lines stay in the ring only.
    store.append({ service: "machined", timeUnixMs: 0, level: "info", message: "after close" });
    expect(store.tail("machined", 1)[0]?.message).toBe("after close");
    expect(readFileSync(join(dir, "machined.log"), "utf8")).not.toContain("after close");
  });

  it("appends to the file of an earlier boot", async () => {
    const dir = tmp();
    for (const boot of ["one", "two"]) {
      const store = new LogStore();
      store.append({ service: "machined", timeUnixMs: 0, level: "", message: boot });
      await store.persistTo(dir);
      await store.closeFiles();
    }
    expect(readFileSync(join(dir, "machined.log"), "utf8")).toBe("one\ntwo\n");
  });
});

describe("LogFiles", () => {
  it("rotates past the size limit, keeping one old file and every line", async () => {
    const dir = tmp();
    const files = await LogFiles.open(dir, 100);
    const lines = Array.from({ length: 12 }, (_, i) => `line ${String(i).padStart(2, "0")} ${"x".repeat(20)}`);
    for (const l of lines) files.write("machined", l);
    await files.close();
    const current = readFileSync(join(dir, "machined.log"), "utf8");
    const old = readFileSync(join(dir, "machined.log.1"), "utf8");
    expect(current.length).toBeLessThanOrEqual(100);
    // The newest lines are in the current file, the ones just before in .1.
    expect((old + current).trimEnd().split("\n")).toEqual(lines.slice(-(old + current).trimEnd().split("\n").length));
    expect(current.trimEnd().split("\n").at(-1)).toBe(lines.at(-1));
  });

  it("ignores service names that are not file names", async () => {
    const dir = tmp();
    const files = await LogFiles.open(dir);
    files.write("../escape", "x");
    await files.close();
    expect(() => readFileSync(join(dir, "..", "escape.log"))).toThrow();
  });
});
