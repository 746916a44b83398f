import { createPrivateKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { CairnError } from "../../errors/index.js";
import { publishRelease } from "../../machinery/release/index.js";
import { globals } from "../context.js";
import { structured } from "../output.js";

/** release publish: add a signed bundle to a channel of a static release repository. */
export function registerRelease(program: Command): void {
  const release = program.command("release").description("manage a static release repository (channels of signed metadata)");
  release
    .command("publish")
    .description("add a bundle to a channel: copies it to <repo>/bundles/ and re-signs <repo>/channels/<channel>.json")
    .requiredOption("--repo <dir>", "repository directory (served as-is by any HTTP server)")
    .requiredOption("--channel <name>", "channel to publish to, e.g. stable or beta")
    .requiredOption("--bundle <path>", "a cairn-*.bundle signed by the same release key")
    .requiredOption("--url-base <url>", "public URL of the repository directory")
    .requiredOption("--key <path>", "ed25519 release private key (PEM), e.g. hack/.keys/release.key.pem")
    .option("--min-version <version>", "lowest running version allowed to update straight to this release")
    .action(async (flags: { repo: string; channel: string; bundle: string; urlBase: string; key: string; minVersion?: string }, cmd: Command) => {
      const pem = await readFile(flags.key, "utf8").catch(() => {
        throw new CairnError("INVALID_ARGUMENT", `--key ${flags.key}: cannot read the file`);
      });
      let privateKey;
      try {
        privateKey = createPrivateKey(pem);
      } catch (e) {
        throw new CairnError("INVALID_ARGUMENT", `--key ${flags.key}: not a PEM private key (${(e as Error).message})`);
      }
      const r = await publishRelease({ repo: flags.repo, channel: flags.channel, bundlePath: flags.bundle, urlBase: flags.urlBase, privateKey, ...(flags.minVersion ? { minVersion: flags.minVersion } : {}) });
      const format = globals(cmd).format;
      if (format !== "table") process.stdout.write(`${structured(format, r)}\n`);
      else process.stdout.write(`${r.unchanged ? "re-signed" : "published"} ${r.release.version} (${r.release.arch}) on channel ${flags.channel}: metadata version ${r.metadataVersion}, ${r.channelPath}\n  ${r.release.url}\n`);
    });
}
