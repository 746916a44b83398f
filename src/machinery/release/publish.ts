import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { CairnError } from "../../errors/index.js";
import { writeFileAtomic } from "../fs/atomic-write.js";
import { verifyBundle } from "../bundle/index.js";
import { CHANNEL_NAME, type ChannelPayload, type ChannelRelease } from "./channel-metadata.js";
import { signChannel, verifyChannel } from "./channel-signature.js";
import { compareSemver } from "./semver.js";

export interface PublishOptions {
  /** Repository directory (created if missing): channels/<name>.json and bundles/. */
  readonly repo: string;
  readonly channel: string;
  readonly bundlePath: string;
  /** Public URL of the repository directory; bundle URLs are <urlBase>/bundles/<file>. */
  readonly urlBase: string;
  /** The ed25519 release key: signs the channel; the bundle must carry its signature too. */
  readonly privateKey: KeyObject;
  readonly minVersion?: string;
  /** Clock (tests); the timestamp never goes backwards even if the clock does. */
  readonly now?: () => Date;
}

export interface PublishResult {
  readonly channelPath: string;
  readonly release: ChannelRelease;
  readonly metadataVersion: number;
  /** True when the same bundle was already listed (nothing changed but the signature). */
  readonly unchanged: boolean;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest("hex");
}

/**
 * Adds a bundle to a channel of a static release repository:
 *   <repo>/bundles/<bundle file>      the bundle, byte for byte
 *   <repo>/channels/<channel>.json    signed metadata listing every release
 * Checks first (bundle signed by this key, existing channel signed by it,
 * the same version not already published with other bytes), then writes
 * the bundle and last the channel file, each by atomic rename, so a reader
 * never sees metadata pointing at a bundle that is not there yet. A lock
 * file serialises concurrent publishers. Any HTTP server can serve <repo>.
 */
export async function publishRelease(o: PublishOptions): Promise<PublishResult> {
  if (!CHANNEL_NAME.test(o.channel)) throw new CairnError("INVALID_ARGUMENT", `--channel ${o.channel}: must be a lowercase name like stable`);
  let base: URL;
  try {
    base = new URL(o.urlBase);
  } catch {
    throw new CairnError("INVALID_ARGUMENT", `--url-base ${o.urlBase}: not a URL`);
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") throw new CairnError("INVALID_ARGUMENT", `--url-base ${o.urlBase}: must be http:// or https://`);
  const size = await stat(o.bundlePath).then(
    (s) => s.size,
    () => {
      throw new CairnError("INVALID_ARGUMENT", `--bundle ${o.bundlePath}: no such file`);
    },
  );
  const publicPem = createPublicKey(o.privateKey).export({ type: "spki", format: "pem" }).toString();
  const bundle = await verifyBundle(o.bundlePath, [publicPem]).catch((e: unknown) => {
    throw new CairnError("INVALID_ARGUMENT", `--bundle ${o.bundlePath}: ${(e as Error).message} (it must be signed by the same release key as the channel)`, { cause: e });
  });
  const { version, arch } = bundle.manifest;
  if (o.minVersion !== undefined && compareSemver(o.minVersion, version) > 0) throw new CairnError("INVALID_ARGUMENT", `--min-version ${o.minVersion} is newer than the bundle's ${version}`);

  await mkdir(join(o.repo, "channels"), { recursive: true });
  await mkdir(join(o.repo, "bundles"), { recursive: true });
  const lockPath = join(o.repo, ".publish.lock");
  const lock = await open(lockPath, "wx").catch((e: { code?: string }) => {
    if (e.code === "EEXIST") throw new CairnError("ABORTED", `${lockPath} exists: another publish is running (remove it if none is)`);
    throw e;
  });
  try {
    const channelPath = join(o.repo, "channels", `${o.channel}.json`);
    const existing = await readFile(channelPath, "utf8").catch((e: { code?: string }) => {
      if (e.code === "ENOENT") return undefined;
      throw e;
    });
    const previous = existing === undefined ? undefined : verifyChannel(existing, [publicPem]).payload;
    if (previous && previous.channel !== o.channel) throw new CairnError("FAILED_PRECONDITION", `${channelPath} is for channel ${previous.channel}`);

    const sha256 = await sha256File(o.bundlePath);
    const file = basename(o.bundlePath);
    const url = new URL(`bundles/${encodeURIComponent(file)}`, base.href.endsWith("/") ? base : `${base.href}/`).href;
    const now = o.now?.() ?? new Date();
    const old = previous?.releases.find((r) => r.version === version && r.arch === arch);
    if (old && old.sha256 !== sha256) {
      throw new CairnError("ALREADY_EXISTS", `channel ${o.channel} already lists ${version} for ${arch} with other bytes (sha256 ${old.sha256.slice(0, 12)}…): publish a new version instead`);
    }
    const release: ChannelRelease = old ?? { version, arch, url, sha256, size, ...(o.minVersion ? { minVersion: o.minVersion } : {}), publishedAt: now.toISOString() };
    const prevTime = previous ? Date.parse(previous.timestamp) : 0;
    const payload: ChannelPayload = {
      format: 1,
      channel: o.channel,
      metadataVersion: (previous?.metadataVersion ?? 0) + 1,
      timestamp: new Date(Math.max(now.getTime(), prevTime + 1)).toISOString(),
      releases: [...(previous?.releases.filter((r) => r !== old) ?? []), release].sort((a, b) => compareSemver(a.version, b.version) || a.arch.localeCompare(b.arch)),
    };
    const text = signChannel(payload, o.privateKey);

    const bundleDest = join(o.repo, "bundles", file);
    const present = await sha256File(bundleDest).catch(() => undefined);
    if (present !== undefined && present !== sha256) {
      throw new CairnError("ALREADY_EXISTS", `${bundleDest} exists with other bytes (another channel may list it): rename the bundle or publish a new version`);
    }
    if (present === undefined) {
      const tmp = `${bundleDest}.${process.pid}.tmp`;
      await copyFile(o.bundlePath, tmp);
      await rename(tmp, bundleDest);
    }
    await writeFileAtomic(channelPath, text, { mode: 0o644 });
    return { channelPath, release, metadataVersion: payload.metadataVersion, unchanged: old !== undefined };
  } finally {
    await lock.close();
    await rm(lockPath, { force: true });
  }
}
