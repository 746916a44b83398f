import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Command } from "commander";
import { CairnError } from "../../errors/index.js";
import { onNodes } from "../context.js";
import { structured } from "../output.js";
import { parseList } from "../parse-flags.js";

function say(ok: { node: string; value: unknown }[], fmt: string, line: (v: never) => string): void {
  if (fmt !== "table") process.stdout.write(`${structured(fmt as "json", ok.map((r) => ({ node: r.node, ...(r.value as object) })))}\n`);
  else for (const { node, value } of ok) process.stdout.write(`${node}: ${line(value as never)}\n`);
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

async function* chunksOf(path: string): AsyncIterable<Uint8Array> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) yield chunk as Buffer;
}

/** reboot, shutdown, reset, upgrade, rollback. */
export function registerPower(program: Command): void {
  program
    .command("reboot")
    .description("reboot nodes")
    .action(async (_f, cmd: Command) => {
      await onNodes(cmd, (c) => c.reboot(), (ok, g) => say(ok, g.format, (v: { bootId: string }) => `rebooting (boot ${v.bootId} ends)`));
    });
  program
    .command("shutdown")
    .description("power nodes off")
    .action(async (_f, cmd: Command) => {
      await onNodes(cmd, (c) => c.shutdown(), (ok, g) => say(ok, g.format, (v: { bootId: string }) => `shutting down (boot ${v.bootId} ends)`));
    });
  program
    .command("reset")
    .description("wipe system areas and reboot (the node returns to maintenance mode when state is wiped)")
    .option("--wipe <areas>", "comma list of state, ephemeral (default both)", parseList)
    .option("--no-reboot", "power off after wiping instead of rebooting")
    .action(async (flags: { wipe?: string[]; reboot: boolean }, cmd: Command) => {
      await onNodes(cmd, (c) => c.reset(flags.wipe ?? [], flags.reboot), (ok, g) => say(ok, g.format, (v: { wiped: string[] }) => `resetting: wiping ${v.wiped.join(", ")}`));
    });
  program
    .command("upgrade")
    .description("install a signed OS bundle into the inactive slot")
    .requiredOption("--image <bundle>", "path of a cairn-*.bundle")
    .option("--reboot", "reboot into the new slot once written")
    .option("--stage", "write the slot without making it the default")
    .option("--force", "allow the same or an older version")
    .action(async (flags: { image: string; reboot?: boolean; stage?: boolean; force?: boolean }, cmd: Command) => {
      const size = await stat(flags.image).then(
        (s) => s.size,
        () => {
          throw new CairnError("INVALID_ARGUMENT", `--image ${flags.image}: no such file`);
        },
      );
      const sha256 = await sha256File(flags.image);
      const header = { size, sha256, reboot: flags.reboot ?? false, stageOnly: flags.stage ?? false, force: flags.force ?? false };
      await onNodes(cmd, (c) => c.upgrade(header, chunksOf(flags.image)), (ok, g) => say(ok, g.format, (v: { message: string }) => v.message));
    });
  program
    .command("rollback")
    .description("make the previously booted slot the default again")
    .option("--reboot", "reboot into it now")
    .action(async (flags: { reboot?: boolean }, cmd: Command) => {
      await onNodes(cmd, (c) => c.rollback(flags.reboot ?? false), (ok, g) => say(ok, g.format, (v: { nextSlot: string; nextVersion: string }) => `next boot: slot ${v.nextSlot} (${v.nextVersion})`));
    });
}
