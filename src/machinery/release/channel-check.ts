import { createHash, randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { CairnError } from "../../errors/index.js";
import { httpGet, httpGetText, type HttpGetOptions } from "../net/http-get.js";
import type { ChannelPayload, ChannelRelease } from "./channel-metadata.js";
import { verifyChannel, type VerifiedChannel } from "./channel-signature.js";
import { compareSemver } from "./semver.js";

/** Channel documents are small; anything bigger is not one. */
export const MAX_CHANNEL_BYTES = 1024 * 1024;

/** Where a channel's metadata lives below a repository URL. */
export function channelUrl(repoUrl: string, channel: string): string {
  return `${repoUrl.replace(/\/+$/, "")}/channels/${channel}.json`;
}

/** What a node remembers of the newest channel document it accepted (persisted across boots). */
export interface SeenChannel {
  readonly channel: string;
  readonly metadataVersion: number;
  readonly timestamp: string;
}

/**
 * Refuses metadata that would move a node backwards: another channel's
 * document (mix-and-match), a smaller metadataVersion or an older timestamp
 * than already accepted (a replayed old document could hide a fix or offer a
 * withdrawn release), or a different document under the same version.
 * FAILED_PRECONDITION naming both values.
 */
export function checkFreshness(previous: SeenChannel | undefined, next: ChannelPayload, channel: string): void {
  const fail = (m: string): never => {
    throw new CairnError("FAILED_PRECONDITION", `channel ${channel}: ${m}`);
  };
  if (next.channel !== channel) fail(`metadata is for channel ${next.channel}`);
  if (!previous) return;
  if (next.metadataVersion < previous.metadataVersion) fail(`metadata version ${next.metadataVersion} is older than ${previous.metadataVersion} already seen (rollback refused)`);
  if (Date.parse(next.timestamp) < Date.parse(previous.timestamp)) fail(`metadata timestamp ${next.timestamp} is older than ${previous.timestamp} already seen (rollback refused)`);
  if (next.metadataVersion === previous.metadataVersion && next.timestamp !== previous.timestamp) {
    fail(`two different documents carry metadata version ${next.metadataVersion} (${previous.timestamp} and ${next.timestamp})`);
  }
}

/** Fetches, verifies and freshness-checks a channel; returns what to persist as the new SeenChannel too. */
export async function fetchChannel(
  repoUrl: string,
  channel: string,
  trustedPublicKeysPem: readonly string[],
  previous: SeenChannel | undefined,
  http: HttpGetOptions = {},
): Promise<VerifiedChannel & { seen: SeenChannel }> {
  const text = await httpGetText(channelUrl(repoUrl, channel), MAX_CHANNEL_BYTES, http);
  const verified = verifyChannel(text, trustedPublicKeysPem);
  checkFreshness(previous, verified.payload, channel);
  const { metadataVersion, timestamp } = verified.payload;
  return { ...verified, seen: { channel, metadataVersion, timestamp } };
}

/** Why a listed release was not picked (for logs and status). */
export interface Skipped {
  readonly version: string;
  readonly why: string;
}

/**
 * Picks the newest release of `arch` newer than `running` that a node on
 * `running` may take (minVersion), leaving out versions in `bad` (marked bad
 * by the fleet). Returns undefined when there is none, with the reasons.
 */
export function pickUpdate(
  payload: ChannelPayload,
  running: string,
  arch: string,
  bad: ReadonlySet<string> = new Set(),
): { release: ChannelRelease | undefined; skipped: Skipped[] } {
  const skipped: Skipped[] = [];
  const candidates = payload.releases
    .filter((r) => r.arch === arch && compareSemver(r.version, running) > 0)
    .filter((r) => {
      if (bad.has(r.version)) skipped.push({ version: r.version, why: "marked bad by the fleet" });
      else if (r.minVersion && compareSemver(running, r.minVersion) < 0) skipped.push({ version: r.version, why: `needs at least ${r.minVersion} running` });
      else return true;
      return false;
    })
    .sort((a, b) => compareSemver(b.version, a.version));
  return { release: candidates[0], skipped };
}

/**
 * Downloads a release's bundle to `dest` (through a temp file beside it),
 * checking size and sha256 against the signed metadata while streaming: more
 * bytes than announced stops the download at once. Nothing is left at
 * `dest` unless it matched. The bundle's own signature is verified later by
 * the install path (verifyBundle), as for an uploaded bundle.
 */
export async function downloadRelease(release: ChannelRelease, dest: string, http: HttpGetOptions = {}): Promise<void> {
  const tmp = `${dest}.${randomBytes(6).toString("hex")}.part`;
  const fh = await open(tmp, "wx", 0o600);
  try {
    const res = await httpGet(release.url, http);
    const h = createHash("sha256");
    let n = 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > release.size) {
        res.destroy();
        throw new CairnError("INVALID_ARGUMENT", `${release.url}: more than the ${release.size} bytes the channel announces`);
      }
      h.update(chunk);
      await fh.write(chunk);
    }
    if (n !== release.size) throw new CairnError("INVALID_ARGUMENT", `${release.url}: got ${n} bytes, the channel announces ${release.size}`);
    const digest = h.digest("hex");
    if (digest !== release.sha256) throw new CairnError("INVALID_ARGUMENT", `${release.url}: sha256 ${digest} does not match the channel's ${release.sha256}`);
    await fh.sync();
    await fh.close();
    await rename(tmp, dest);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
}
