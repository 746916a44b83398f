import { createReadStream, statSync } from "node:fs";
import { basename } from "node:path";
import type { Command } from "commander";
import { CairnError } from "../../errors/index.js";
import { onNodes } from "../context.js";
import { structured, table } from "../output.js";

async function* chunksOf(path: string): AsyncIterable<Uint8Array> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) yield chunk as Buffer;
}

const cell = (v: string | number | undefined): string => (v === undefined || v === "" ? "-" : String(v));

/** containers, restart, image list|import|remove: the node's workloads and images. */
export function registerWorkloads(program: Command): void {
  program
    .command("containers")
    .description("list the workloads each node runs (machine.workloads) and their state")
    .action(async (_f, cmd: Command) => {
      await onNodes(
        cmd,
        (c) => c.containerList(),
        (ok, g) => {
          if (g.format !== "table") return void process.stdout.write(`${structured(g.format, ok.map((r) => ({ node: r.node, containers: r.value.containers })))}\n`);
          const rows = ok.flatMap(({ node, value }) =>
            value.containers.map((w) => [node, w.name, w.image, w.state, cell(w.pid || undefined), w.restarts, w.lastExitStatus < 0 ? "-" : `${w.lastExitStatus}${w.lastOomKilled ? " (OOM)" : ""}`, cell(w.message)]),
          );
          process.stdout.write(`${table(["NODE", "NAME", "IMAGE", "STATE", "PID", "RESTARTS", "LAST EXIT", "MESSAGE"], rows)}\n`);
        },
      );
    });

  program
    .command("restart <workload>")
    .description("stop a workload's task and start a new one, whatever its restart policy")
    .action(async (name: string, _f, cmd: Command) => {
      await onNodes(
        cmd,
        (c) => c.containerRestart(name),
        (ok, g) => {
          if (g.format !== "table") return void process.stdout.write(`${structured(g.format, ok.map((r) => ({ node: r.node, ...r.value })))}\n`);
          for (const { node, value } of ok) process.stdout.write(`${node}: ${name} ${value.container?.state ?? "?"} (pid ${value.container?.pid ?? 0})\n`);
        },
      );
    });

  const image = program.command("image").description("list, import and remove the images of each node");
  image
    .command("list")
    .description("list the images in each node's image store")
    .action(async (_f, cmd: Command) => {
      await onNodes(
        cmd,
        (c) => c.imageList(),
        (ok, g) => {
          if (g.format !== "table") return void process.stdout.write(`${structured(g.format, ok.map((r) => ({ node: r.node, images: r.value.images })))}\n`);
          const rows = ok.flatMap(({ node, value }) => value.images.map((i) => [node, i.name, i.digest, i.mediaType]));
          process.stdout.write(`${table(["NODE", "IMAGE", "DIGEST", "MEDIA TYPE"], rows)}\n`);
        },
      );
    });
  image
    .command("import <archive>")
    .description("import an OCI image layout archive (.tar) into each node: no registry needed")
    .option("--name <ref>", "image name when the archive's index.json does not carry one")
    .action(async (archive: string, flags: { name?: string }, cmd: Command) => {
      try {
        if (!statSync(archive).isFile()) throw new Error("not a file");
      } catch (e) {
        throw new CairnError("INVALID_ARGUMENT", `${archive}: cannot read the archive (${e instanceof Error ? e.message : String(e)})`);
      }
      await onNodes(
        cmd,
        (c) => c.imageImport({ name: flags.name ?? "", fileName: basename(archive) }, chunksOf(archive)),
        (ok, g) => {
          if (g.format !== "table") return void process.stdout.write(`${structured(g.format, ok.map((r) => ({ node: r.node, ...r.value })))}\n`);
          for (const { node, value } of ok) process.stdout.write(`${node}: imported ${value.names.join(", ")}\n`);
        },
      );
    });
  image
    .command("remove <image>")
    .description("remove an image from each node (refused while a workload uses it)")
    .action(async (name: string, _f, cmd: Command) => {
      await onNodes(
        cmd,
        (c) => c.imageRemove(name),
        (ok) => {
          for (const { node } of ok) process.stdout.write(`${node}: removed ${name}\n`);
        },
      );
    });
}
