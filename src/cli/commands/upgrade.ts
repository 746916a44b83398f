import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Command } from "commander";
import { CairnError } from "../../errors/index.js";
import { onNodes } from "../context.js";
import { track } from "../track-lifecycle.js";
import { UploadProgress } from "../upload-progress.js";
import { watchPhases } from "../watch-phases.js";
import { say, summary, withWait, type WaitFlags } from "./power.js";
import { rollingUpgradeCommand } from "./upgrade-rolling.js";

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

async function* chunksOf(path: string): AsyncIterable<Uint8Array> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) yield chunk as Buffer;
}

function parseTries(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 9) throw new CairnError("INVALID_ARGUMENT", `--tries ${v}: must be a whole number from 1 to 9`);
  return n;
}

const needsReboot = (flags: WaitFlags & { reboot?: boolean }, what: string) => {
  if (flags.wait && !flags.reboot) throw new CairnError("INVALID_ARGUMENT", `--wait needs --reboot: ${what} without it does not restart the node`);
};

/** `upgrade --url`: the node downloads and verifies the bundle; with --wait the phases and the new boot are followed. */
async function upgradeFromUrl(flags: WaitFlags & { url: string; reboot?: boolean; stage?: boolean; force?: boolean; tries: number }, cmd: Command): Promise<void> {
  const header = { size: 0, sha256: "", reboot: flags.reboot ?? false, stageOnly: flags.stage ?? false, force: flags.force ?? false, url: flags.url, tries: flags.tries };
  if (!flags.wait) {
    return onNodes(cmd, (c) => c.upgrade(header, []), (ok, g) => say(ok, g.format, (v: { message: string }) => v.message));
  }
  const stops: AbortController[] = [];
  try {
    await onNodes(
      cmd,
      (c, node, dial) => {
        const stop = new AbortController();
        stops.push(stop);
        void watchPhases(dial, (line) => process.stderr.write(`${node}: ${line}\n`), stop.signal);
        return track(c, dial, { action: "upgrade", goal: "new-boot", timeoutMs: flags.timeout * 1000, call: () => c.upgrade(header, []), expected: (r) => ({ slot: r.slot, version: r.version }) }).finally(() =>
          stop.abort(),
        );
      },
      (ok, g) => say(ok, g.format, summary),
    );
  } finally {
    for (const s of stops) s.abort();
  }
}

/** upgrade (with upload progress and, with --wait, tracked phases and the slot it came back on) and rollback. */
export function registerUpgrade(program: Command): void {
  withWait(
    program
      .command("upgrade")
      .description("install a signed OS bundle into the inactive slot")
      .option("--image <bundle>", "path of a cairn-*.bundle to upload")
      .option("--url <url>", "http(s) URL the node downloads the bundle from itself (instead of --image)")
      .option("--reboot", "reboot into the new slot once written")
      .option("--stage", "write the slot without making it the default")
      .option("--force", "allow the same or an older version")
      .option("--tries <n>", "boots the new slot gets to be blessed before the node falls back (1-9)", (v) => parseTries(v), 3)
      .option("--rolling", "one node at a time (see --max-unavailable), each healthy on the new version before the next; stops at the first failure")
      .option("--max-unavailable <n>", "with --rolling: nodes upgrading at once", (v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new CairnError("INVALID_ARGUMENT", `--max-unavailable ${v}: must be a positive integer`);
        return n;
      }, 1),
    "each node boots the new version (with --reboot); an automatic rollback fails",
  ).action(async (flags: WaitFlags & { image?: string; url?: string; reboot?: boolean; stage?: boolean; force?: boolean; tries: number; rolling?: boolean; maxUnavailable: number }, cmd: Command) => {
    if (flags.rolling) {
      if (flags.url !== undefined || flags.image === undefined) throw new CairnError("INVALID_ARGUMENT", "--rolling uploads the bundle to each node: it needs --image <bundle>, not --url");
      return rollingUpgradeCommand({ ...flags, image: flags.image }, cmd);
    }
    needsReboot(flags, "upgrade");
    if ((flags.image === undefined) === (flags.url === undefined)) throw new CairnError("INVALID_ARGUMENT", "upgrade needs exactly one of --image <bundle> and --url <url>");
    if (flags.url !== undefined) return upgradeFromUrl(flags as WaitFlags & { url: string; reboot?: boolean; stage?: boolean; force?: boolean; tries: number }, cmd);
    const image = flags.image!;
    const size = await stat(image).then(
      (s) => s.size,
      () => {
        throw new CairnError("INVALID_ARGUMENT", `--image ${image}: no such file`);
      },
    );
    const sha256 = await sha256File(image);
    const header = { size, sha256, reboot: flags.reboot ?? false, stageOnly: flags.stage ?? false, force: flags.force ?? false, url: "", tries: flags.tries };
    const progress = new UploadProgress(size);
    const stops: AbortController[] = [];
    try {
      if (!flags.wait) {
        await onNodes(cmd, (c, node) => c.upgrade(header, progress.track(node, chunksOf(image))), (ok, g) => {
          progress.stop();
          say(ok, g.format, (v: { message: string }) => v.message);
        });
        return;
      }
      await onNodes(
        cmd,
        (c, node, dial) => {
          const stop = new AbortController();
          stops.push(stop);
          void watchPhases(dial, (line) => progress.log(`${node}: ${line}`), stop.signal);
          return track(c, dial, {
            action: "upgrade",
            goal: "new-boot",
            timeoutMs: flags.timeout * 1000,
            call: () => c.upgrade(header, progress.track(node, chunksOf(image))),
            expected: (r) => ({ slot: r.slot, version: r.version }),
          }).finally(() => stop.abort());
        },
        (ok, g) => {
          progress.stop();
          say(ok, g.format, summary);
        },
      );
    } finally {
      for (const s of stops) s.abort();
      progress.stop();
    }
  });
  withWait(
    program.command("rollback").description("make the previously booted slot the default again").option("--reboot", "reboot into it now"),
    "each node boots the previous slot (with --reboot)",
  ).action(async (flags: WaitFlags & { reboot?: boolean }, cmd: Command) => {
    needsReboot(flags, "rollback");
    if (!flags.wait) {
      return onNodes(cmd, (c) => c.rollback(flags.reboot ?? false), (ok, g) => say(ok, g.format, (v: { nextSlot: string; nextVersion: string }) => `next boot: slot ${v.nextSlot} (${v.nextVersion})`));
    }
    await onNodes(
      cmd,
      (c, _n, dial) => track(c, dial, { action: "rollback", goal: "new-boot", timeoutMs: flags.timeout * 1000, call: () => c.rollback(true), expected: (r) => ({ slot: r.nextSlot, version: r.nextVersion }) }),
      (ok, g) => say(ok, g.format, summary),
    );
  });
}
