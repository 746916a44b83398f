import { createHash, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeBundle } from "../../src/machinery/bundle/index.js";
import { verifyChannel } from "../../src/machinery/release/index.js";
import { nodectl, show } from "./support/index.js";

// nodectl release publish as a user runs it: a key file, a bundle, a repo directory.

const tmp = mkdtempSync(join(tmpdir(), "cairn-it-release-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("nodectl release publish", () => {
  it("publishes a bundle into a channel and reports bad flags in one line", async () => {
    const key = generateKeyPairSync("ed25519");
    const keyPath = join(tmp, "release.key.pem");
    writeFileSync(keyPath, key.privateKey.export({ type: "pkcs8", format: "pem" }));
    const parts: Record<string, string> = {};
    for (const n of ["kernel", "initramfs", "rootfs"]) writeFileSync((parts[n] = join(tmp, n)), `${n}\n`);
    const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");
    const bundle = join(tmp, "cairn-0.2.0-amd64.bundle");
    await writeBundle(bundle, { format: 1, version: "0.2.0", arch: "amd64", buildId: "it", keyId: "it", parts: (["kernel", "initramfs", "rootfs"] as const).map((name) => ({ name, size: readFileSync(parts[name]!).length, sha256: sha(parts[name]!) })) }, parts, key.privateKey);
    const repo = join(tmp, "repo");
    const args = ["release", "publish", "--repo", repo, "--channel", "stable", "--bundle", bundle, "--url-base", "http://10.0.2.2:8080", "--key", keyPath];
    const r = await nodectl(args);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain("published 0.2.0 (amd64) on channel stable: metadata version 1");
    expect(r.stdout).toContain("http://10.0.2.2:8080/bundles/cairn-0.2.0-amd64.bundle");
    const pub = key.publicKey.export({ type: "spki", format: "pem" }).toString();
    expect(verifyChannel(readFileSync(join(repo, "channels", "stable.json"), "utf8"), [pub]).payload.releases).toHaveLength(1);

    const json = await nodectl([...args, "-o", "json"]);
    expect(json.code, show(json)).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ metadataVersion: 2, unchanged: true });

    const bad = await nodectl(["release", "publish", "--repo", repo, "--channel", "stable", "--bundle", bundle, "--url-base", "http://h", "--key", join(tmp, "missing.pem")]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toMatch(/--key .*missing\.pem: cannot read the file/);
    expect(bad.stderr).not.toMatch(/\n\s+at /); // never a stack trace
  });
});
