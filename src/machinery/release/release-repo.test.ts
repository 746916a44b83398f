import { createHash, generateKeyPairSync, type KeyObject } from "node:crypto";
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCairnError } from "../../errors/index.js";
import { writeBundle, type BundleManifest } from "../bundle/index.js";
import { channelUrl, checkFreshness, downloadRelease, fetchChannel, pickUpdate, publishRelease, signChannel, verifyChannel, type ChannelPayload } from "./index.js";

const release = generateKeyPairSync("ed25519");
const other = generateKeyPairSync("ed25519");
const pem = (k: KeyObject) => k.export({ type: "spki", format: "pem" }).toString();
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let dir: string;
let repo: string;
let server: Server;
let base: string;
/** Bytes the test server answers for a path instead of the file (to play a hostile mirror). */
const override = new Map<string, Buffer>();

async function bundle(version: string, key: KeyObject = release.privateKey, name = `cairn-${version}-amd64.bundle`, buildId = `t-${version}`): Promise<string> {
  const parts: Record<string, string> = {};
  for (const n of ["kernel", "initramfs", "rootfs"]) writeFileSync((parts[n] = join(dir, `${version}.${n}`)), `${n} ${version}\n`);
  const manifest: BundleManifest = {
    format: 1,
    version,
    arch: "amd64",
    buildId,
    keyId: "t",
    parts: (["kernel", "initramfs", "rootfs"] as const).map((n) => {
      const b = readFileSync(parts[n]!);
      return { name: n, size: b.length, sha256: sha(b) };
    }),
  };
  const path = join(dir, name);
  await writeBundle(path, manifest, parts, key);
  return path;
}

async function code(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === "function" ? p() : p);
    return "OK";
  } catch (e) {
    if (isCairnError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
}

const clock = (iso: string) => () => new Date(iso);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cairn-release-"));
  repo = join(dir, "repo");
  // Any static HTTP server will do; this one is node:http over the directory.
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const forced = override.get(path);
    const file = join(repo, path);
    if (forced) res.end(forced);
    else if (!existsSync(file)) res.writeHead(404).end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe("nodectl release publish (publishRelease)", () => {
  it("creates a channel, then adds releases, bumping metadataVersion", async () => {
    const r1 = await publishRelease({ repo, channel: "stable", bundlePath: await bundle("0.2.0"), urlBase: base, privateKey: release.privateKey, now: clock("2026-01-01T00:00:00Z") });
    expect(r1).toMatchObject({ metadataVersion: 1, unchanged: false, release: { version: "0.2.0", arch: "amd64", url: `${base}/bundles/cairn-0.2.0-amd64.bundle` } });
    const r2 = await publishRelease({ repo, channel: "stable", bundlePath: await bundle("0.3.0"), urlBase: `${base}/`, privateKey: release.privateKey, minVersion: "0.2.0", now: clock("2026-01-02T00:00:00Z") });
    expect(r2.metadataVersion).toBe(2);
    const { payload, keyId } = verifyChannel(readFileSync(join(repo, "channels", "stable.json"), "utf8"), [pem(other.publicKey), pem(release.publicKey)]);
    expect(keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(payload).toMatchObject({ channel: "stable", metadataVersion: 2, timestamp: "2026-01-02T00:00:00.000Z" });
    expect(payload.releases.map((r) => [r.version, r.minVersion])).toEqual([["0.2.0", undefined], ["0.3.0", "0.2.0"]]);
    expect(readdirSync(join(repo, "bundles")).sort()).toEqual(["cairn-0.2.0-amd64.bundle", "cairn-0.3.0-amd64.bundle"]);
    expect(readdirSync(repo).sort()).toEqual(["bundles", "channels"]); // the lock is gone
  });

  it("republishing the same bundle re-signs with a newer metadataVersion; other bytes under a listed version are refused", async () => {
    const again = await publishRelease({ repo, channel: "stable", bundlePath: join(dir, "cairn-0.3.0-amd64.bundle"), urlBase: base, privateKey: release.privateKey, now: clock("2025-01-01T00:00:00Z") });
    expect(again).toMatchObject({ unchanged: true, metadataVersion: 3 });
    // The clock went back a year: the timestamp still moves forward.
    expect(verifyChannel(readFileSync(again.channelPath, "utf8"), [pem(release.publicKey)]).payload.timestamp).toBe("2026-01-02T00:00:00.001Z");
    const before = readFileSync(again.channelPath, "utf8");
    // A rebuild of 0.3.0 (another build id, so other bytes): refused, channel untouched.
    const rebuilt = await bundle("0.3.0", release.privateKey, "rebuilt-0.3.0.bundle", "rebuild");
    expect(await code(publishRelease({ repo, channel: "stable", bundlePath: rebuilt, urlBase: base, privateKey: release.privateKey }))).toMatch(
      /^ALREADY_EXISTS: channel stable already lists 0\.3\.0 for amd64 with other bytes/,
    );
    // A tampered bundle is refused as a bundle before anything else.
    const bytes = readFileSync(rebuilt);
    bytes[bytes.length - 2] ^= 1;
    writeFileSync(rebuilt, bytes);
    expect(await code(publishRelease({ repo, channel: "stable", bundlePath: rebuilt, urlBase: base, privateKey: release.privateKey }))).toMatch(/^INVALID_ARGUMENT: --bundle .*sha256 mismatch/);
    expect(readFileSync(again.channelPath, "utf8")).toBe(before);
  });

  it("refuses a bundle not signed by the release key, a bad channel name or URL, and a channel file it cannot verify", async () => {
    expect(await code(publishRelease({ repo, channel: "stable", bundlePath: await bundle("0.4.0", other.privateKey, "foreign.bundle"), urlBase: base, privateKey: release.privateKey }))).toMatch(
      /^INVALID_ARGUMENT: --bundle .*foreign\.bundle: bundle signature does not match any trusted release key \(it must be signed by the same release key/,
    );
    expect(await code(publishRelease({ repo, channel: "Stable!", bundlePath: "x", urlBase: base, privateKey: release.privateKey }))).toMatch(/--channel Stable!/);
    expect(await code(publishRelease({ repo, channel: "stable", bundlePath: "x", urlBase: "ftp://h/", privateKey: release.privateKey }))).toMatch(/--url-base ftp:\/\/h\/: must be http/);
    expect(await code(publishRelease({ repo, channel: "stable", bundlePath: join(dir, "nope"), urlBase: base, privateKey: release.privateKey }))).toMatch(/--bundle .*nope: no such file/);
    // Someone else's key signed the existing beta channel: publishing with ours must not take it over.
    const v = await bundle("0.2.0");
    await publishRelease({ repo: join(dir, "repo2"), channel: "beta", bundlePath: await bundle("0.2.0", other.privateKey, "o.bundle"), urlBase: base, privateKey: other.privateKey });
    expect(await code(publishRelease({ repo: join(dir, "repo2"), channel: "beta", bundlePath: v, urlBase: base, privateKey: release.privateKey }))).toMatch(/^PERMISSION_DENIED: channel metadata is not signed by a trusted release key/);
  });
});

describe("channel verification", () => {
  const payload = (over: Partial<ChannelPayload> = {}): ChannelPayload => ({
    format: 1,
    channel: "stable",
    metadataVersion: 5,
    timestamp: "2026-01-05T00:00:00.000Z",
    releases: [{ version: "0.2.0", arch: "amd64", url: "http://h/b", sha256: "a".repeat(64), size: 10, publishedAt: "2026-01-05T00:00:00.000Z" }],
    ...over,
  });

  it("rejects a payload altered after signing, and a foreign signature", () => {
    const text = signChannel(payload(), release.privateKey);
    const env = JSON.parse(text) as { payload: string };
    const altered = Buffer.from(env.payload, "base64").toString().replace('"size": 10', '"size": 11');
    const forged = JSON.stringify({ ...env, payload: Buffer.from(altered).toString("base64") });
    expect(() => verifyChannel(forged, [pem(release.publicKey)])).toThrow(/not signed by a trusted release key/);
    expect(() => verifyChannel(signChannel(payload(), other.privateKey), [pem(release.publicKey)])).toThrow(/not signed by a trusted release key/);
    expect(() => verifyChannel(text, [])).toThrow(/0 trusted/);
  });

  it("names every schema problem at its field path", () => {
    const bad = { ...payload(), releases: [{ version: "two", arch: "amd64", url: "file:///etc/passwd", sha256: "XYZ", size: -1, publishedAt: "yesterday", extra: 1 }] };
    // Signing validates first, so a publisher cannot produce it.
    expect(() => signChannel(bad as unknown as ChannelPayload, release.privateKey)).toThrow(
      /releases\[0\]\.version: must be a semantic version.*releases\[0\]\.url: must be an absolute http.*releases\[0\]\.sha256: must be 64 lowercase hex.*releases\[0\]\.size.*releases\[0\]\.publishedAt: must be an RFC 3339.*releases\[0\]\.extra: unknown field/,
    );
    expect(() => verifyChannel("{", [])).toThrow(/channel metadata envelope: not JSON/);
    expect(() => verifyChannel(JSON.stringify({ format: 2, payload: "", signatures: [] }), [])).toThrow(/format: .*payload: must be base64; signatures: must hold at least one signature/);
    const dup = payload({ releases: [...payload().releases, ...payload().releases] });
    expect(() => signChannel(dup, release.privateKey)).toThrow(/releases\[1\]\.version: duplicate release 0\.2\.0 for amd64, also at releases\[0\]/);
  });

  it("refuses metadata that goes backwards, another channel's, or a second document under one version", () => {
    const seen = { channel: "stable", metadataVersion: 5, timestamp: "2026-01-05T00:00:00.000Z" };
    expect(() => checkFreshness(seen, payload(), "stable")).not.toThrow(); // the same document again
    expect(() => checkFreshness(seen, payload({ metadataVersion: 4 }), "stable")).toThrow(/metadata version 4 is older than 5 already seen \(rollback refused\)/);
    expect(() => checkFreshness(seen, payload({ metadataVersion: 6, timestamp: "2026-01-04T00:00:00.000Z" }), "stable")).toThrow(/timestamp .* is older than .* \(rollback refused\)/);
    expect(() => checkFreshness(seen, payload({ timestamp: "2026-01-06T00:00:00.000Z" }), "stable")).toThrow(/two different documents carry metadata version 5/);
    expect(() => checkFreshness(undefined, payload(), "beta")).toThrow(/channel beta: metadata is for channel stable/);
  });

  it("picks the newest allowed release above the running one", () => {
    const r = (version: string, minVersion?: string, arch = "amd64") => ({ version, arch, url: "http://h/b", sha256: "a".repeat(64), size: 1, publishedAt: "2026-01-05T00:00:00.000Z", ...(minVersion ? { minVersion } : {}) });
    const p = payload({ releases: [r("0.1.0"), r("0.2.0"), r("0.3.0", "0.2.0"), r("0.4.0", "0.3.0"), r("0.9.0", undefined, "arm64")] });
    expect(pickUpdate(p, "0.1.0", "amd64").release?.version).toBe("0.2.0"); // 0.3.0 and 0.4.0 need newer nodes
    expect(pickUpdate(p, "0.1.0", "amd64").skipped.map((s) => s.version).sort()).toEqual(["0.3.0", "0.4.0"]);
    expect(pickUpdate(p, "0.2.0", "amd64").release?.version).toBe("0.3.0");
    expect(pickUpdate(p, "0.3.0", "amd64").release?.version).toBe("0.4.0");
    expect(pickUpdate(p, "0.4.0", "amd64").release).toBeUndefined();
    expect(pickUpdate(p, "0.3.0", "amd64", new Set(["0.4.0"]))).toEqual({ release: undefined, skipped: [{ version: "0.4.0", why: "marked bad by the fleet" }] });
  });
});

describe("a node reads the repository over HTTP", () => {
  it("fetches and verifies the channel, refuses a replayed older document, downloads and checks the bundle", async () => {
    const trusted = [pem(release.publicKey)];
    const first = await fetchChannel(base, "stable", trusted, undefined);
    expect(first.seen).toMatchObject({ channel: "stable", metadataVersion: 3 });
    const pick = pickUpdate(first.payload, "0.1.0", "amd64").release!;
    const dest = join(dir, "download.bundle");
    await downloadRelease(pick, dest);
    expect(sha(readFileSync(dest))).toBe(pick.sha256);

    // A mirror replays the version-1 document (validly signed, but old).
    const old = signChannel({ format: 1, channel: "stable", metadataVersion: 1, timestamp: "2026-01-01T00:00:00.000Z", releases: [] }, release.privateKey);
    override.set("/channels/stable.json", Buffer.from(old));
    expect(await code(fetchChannel(base, "stable", trusted, first.seen))).toMatch(/^FAILED_PRECONDITION: channel stable: metadata version 1 is older than 3 already seen/);
    override.clear();

    // A mirror serves other bytes for the bundle: nothing is left at dest.
    const dest2 = join(dir, "download2.bundle");
    override.set("/bundles/cairn-0.2.0-amd64.bundle", Buffer.alloc(pick.size, 1));
    expect(await code(downloadRelease(pick, dest2))).toMatch(/sha256 .* does not match the channel's/);
    override.set("/bundles/cairn-0.2.0-amd64.bundle", Buffer.alloc(pick.size + 1, 1));
    expect(await code(downloadRelease(pick, dest2))).toMatch(/more than the \d+ bytes the channel announces/);
    override.clear();
    expect(readdirSync(dir).filter((f) => f.startsWith("download2"))).toEqual([]);
    expect(await code(fetchChannel(base, "nightly", trusted, undefined))).toMatch(/^UNAVAILABLE: GET .*channels\/nightly\.json: HTTP 404/);
    expect(channelUrl("http://h/repo/", "beta")).toBe("http://h/repo/channels/beta.json");
  });
});
