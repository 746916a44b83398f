import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isCairnError, type CairnError } from "../../errors/index.js";
import {
  contextCredentials,
  currentContext,
  mergeContext,
  parseNodectlConfig,
  readNodectlConfig,
  stringifyNodectlConfig,
  useContext,
  writeNodectlConfig,
  type NodectlConfig,
  type NodectlContext,
} from "./nodectl-config.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const pem = (type: string, body: string) => `-----BEGIN ${type}-----\n${body}\n-----END ${type}-----\n`;
const ctx = (tag: string): NodectlContext => ({
  endpoints: ["127.0.0.1:50000"],
  nodes: [],
  ca: b64(pem("CERTIFICATE", `ca${tag}`)),
  crt: b64(pem("CERTIFICATE", `crt${tag}`)),
  key: b64(pem("PRIVATE KEY", `key${tag}`)),
});

function caught(fn: () => unknown): CairnError {
  try {
    fn();
  } catch (e) {
    if (isCairnError(e)) return e;
    throw e;
  }
  throw new Error("expected a CairnError");
}

const sample = `context: my-cluster
contexts:
  my-cluster:
    endpoints: ["127.0.0.1:50000"]
    nodes: []
    ca: ${ctx("a").ca}
    crt: ${ctx("a").crt}
    key: ${ctx("a").key}
`;

describe("parseNodectlConfig / stringifyNodectlConfig", () => {
  it("reads the talosconfig-like shape and round-trips it", () => {
    const cfg = parseNodectlConfig(sample, "/home/u/.cairn/config");
    expect(cfg).toEqual({ context: "my-cluster", contexts: { "my-cluster": ctx("a") } });
    expect(parseNodectlConfig(stringifyNodectlConfig(cfg), "x")).toEqual(cfg);
  });

  it("fills defaults for endpoints and nodes", () => {
    const c = ctx("a");
    const cfg = parseNodectlConfig(`contexts:\n  c:\n    ca: ${c.ca}\n    crt: ${c.crt}\n    key: ${c.key}\n`, "f");
    expect(cfg.contexts.c).toMatchObject({ endpoints: [], nodes: [] });
    expect(cfg.context).toBeUndefined();
  });

  it("names the file and the field path, without quoting the key", () => {
    const bad = sample.replace(/key: .*/, "key: not-base64-pem!");
    const e = caught(() => parseNodectlConfig(bad, "/tmp/cfg"));
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toBe("/tmp/cfg: invalid nodectl config: contexts.my-cluster.key: must be the base64 of a PEM-encoded private key");
    expect(e.details).toEqual([{ path: 'contexts.my-cluster.key', message: "must be the base64 of a PEM-encoded private key" }]);
    expect(e.message).not.toContain("not-base64");
  });

  it("rejects unknown keys, missing fields and a dangling current context", () => {
    expect(caught(() => parseNodectlConfig(sample.replace("nodes: []", "nodez: []"), "f")).details).toContainEqual({
      path: 'contexts.my-cluster.nodez',
      message: "unknown field",
    });
    expect(caught(() => parseNodectlConfig(sample.replace(/ {4}crt: .*\n/, ""), "f")).message).toMatch(/\.crt: required field is missing$/);
    expect(caught(() => parseNodectlConfig(sample.replace("context: my-cluster", "context: other"), "f")).message).toBe(
      "f: invalid nodectl config: context: names no entry of contexts (known: my-cluster)",
    );
  });

  it("reports YAML syntax errors by line, without echoing the text", () => {
    const e = caught(() => parseNodectlConfig(`context: a\ncontexts: [\n  secret-stuff: {`, "f"));
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toMatch(/^f: invalid nodectl config: line \d+:\d+: /);
    expect(e.message).not.toContain("secret-stuff");
  });

  it("rejects an empty file", () => {
    expect(caught(() => parseNodectlConfig("", "f")).message).toMatch(/^f: invalid nodectl config/);
  });
});

describe("mergeContext", () => {
  it("creates a config and makes the context current", () => {
    expect(mergeContext(undefined, "a", ctx("1"))).toEqual({ context: "a", contexts: { a: ctx("1") } });
  });

  it("adds a context, switching to it unless setCurrent is false", () => {
    const base = mergeContext(undefined, "a", ctx("1"));
    expect(mergeContext(base, "b", ctx("2")).context).toBe("b");
    const kept = mergeContext(base, "b", ctx("2"), { setCurrent: false });
    expect(kept.context).toBe("a");
    expect(Object.keys(kept.contexts)).toEqual(["a", "b"]);
    expect(base.contexts).toEqual({ a: ctx("1") }); // input untouched
  });

  it("replaces a same-named context by default", () => {
    const base = mergeContext(undefined, "a", ctx("1"));
    expect(mergeContext(base, "a", ctx("2")).contexts).toEqual({ a: ctx("2") });
  });

  it("with rename, keeps a different context and stores the new one as name-1, name-2", () => {
    let cfg = mergeContext(undefined, "a", ctx("1"));
    cfg = mergeContext(cfg, "a", ctx("2"), { rename: true });
    cfg = mergeContext(cfg, "a", ctx("3"), { rename: true });
    expect(Object.keys(cfg.contexts)).toEqual(["a", "a-1", "a-2"]);
    expect(cfg.contexts["a-2"]).toEqual(ctx("3"));
    expect(cfg.context).toBe("a-2");
    // identical content is recognised, not duplicated
    const again = mergeContext(cfg, "a", ctx("2"), { rename: true });
    expect(Object.keys(again.contexts)).toEqual(["a", "a-1", "a-2"]);
    expect(again.context).toBe("a-1");
  });
});

describe("useContext / currentContext", () => {
  const cfg: NodectlConfig = { context: "a", contexts: { a: ctx("1"), b: ctx("2") } };

  it("switches and resolves the current context, with an override", () => {
    expect(useContext(cfg, "b").context).toBe("b");
    expect(currentContext(cfg)).toEqual(ctx("1"));
    expect(currentContext(cfg, "b")).toEqual(ctx("2"));
  });

  it("lists the known names for an unknown context", () => {
    for (const e of [caught(() => useContext(cfg, "zz")), caught(() => currentContext(cfg, "zz"))]) {
      expect(e.code).toBe("NOT_FOUND");
      expect(e.message).toBe('context "zz" is not in the nodectl config (known: a, b)');
    }
  });

  it("is FAILED_PRECONDITION when nothing is current", () => {
    expect(caught(() => currentContext({ contexts: {} })).code).toBe("FAILED_PRECONDITION");
  });

  it("decodes credentials to PEM", () => {
    expect(contextCredentials(ctx("1"))).toEqual({
      caPem: pem("CERTIFICATE", "ca1"),
      certPem: pem("CERTIFICATE", "crt1"),
      keyPem: pem("PRIVATE KEY", "key1"),
    });
  });
});

describe("readNodectlConfig / writeNodectlConfig", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const tmp = async () => {
    const d = await mkdtemp(join(tmpdir(), "nodectl-config-"));
    dirs.push(d);
    return d;
  };

  it("writes 0600 into new directories, atomically, and reads it back", async () => {
    const dir = await tmp();
    const path = join(dir, "a", "b", "config");
    const cfg = mergeContext(undefined, "a", ctx("1"));
    await writeNodectlConfig(path, cfg);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "a", "b"))).mode & 0o777).toBe(0o700);
    expect(await readdir(join(dir, "a", "b"))).toEqual(["config"]); // no temp file left behind
    expect(await readNodectlConfig(path)).toEqual(cfg);
  });

  it("replaces an existing file and tightens its mode", async () => {
    const dir = await tmp();
    const path = join(dir, "config");
    await writeFile(path, "old", { mode: 0o644 });
    await writeNodectlConfig(path, mergeContext(undefined, "x", ctx("9")));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, "utf8")).toContain("x:");
  });

  it("reports a missing file as NOT_FOUND naming the path", async () => {
    const path = join(await tmp(), "nope");
    await expect(readNodectlConfig(path)).rejects.toMatchObject({ code: "NOT_FOUND", message: `nodectl config ${path} does not exist` });
  });

  it("names the file when its content is invalid", async () => {
    const path = join(await tmp(), "config");
    await writeFile(path, "contexts: 3\n");
    await expect(readNodectlConfig(path)).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining(`${path}: invalid nodectl config: contexts:`) });
  });
});
