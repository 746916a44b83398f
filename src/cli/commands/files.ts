import type { Command } from "commander";
import type { FileInfo } from "../../api/index.js";
import { onNodes } from "../context.js";
import { structured, table } from "../output.js";
import { parseCount } from "../parse-flags.js";

/** ls and read: the read-only window into a node's file system. */
export function registerFiles(program: Command): void {
  program
    .command("ls [path]")
    .description("list files on nodes (allow-listed paths)")
    .option("-r, --recursive", "descend into directories")
    .option("--depth <n>", "with -r: how deep (0 = unlimited)", parseCount, 0)
    .action(async (path: string | undefined, flags: { recursive?: boolean; depth: number }, cmd: Command) => {
      await onNodes(
        cmd,
        async (c) => {
          const out: FileInfo[] = [];
          for await (const f of c.list({ path: path ?? "/", recursive: flags.recursive ?? false, maxDepth: flags.depth })) out.push(f);
          return out;
        },
        (ok, g) => {
          if (g.format !== "table") return void process.stdout.write(`${structured(g.format, ok.map((r) => ({ node: r.node, files: r.value })))}\n`);
          const rows = ok.flatMap(({ node, value }) => value.map((f) => [node, `0${f.mode.toString(8)}`, f.type, f.size, f.path + (f.linkTarget ? ` -> ${f.linkTarget}` : "")]));
          process.stdout.write(`${table(["NODE", "MODE", "TYPE", "SIZE", "PATH"], rows)}\n`);
        },
      );
    });
  program
    .command("read <path>")
    .description("print a file from nodes (admin only)")
    .action(async (path: string, _f, cmd: Command) => {
      await onNodes(
        cmd,
        async (c) => {
          const parts: Buffer[] = [];
          for await (const chunk of c.read(path)) parts.push(Buffer.from(chunk.data));
          return Buffer.concat(parts);
        },
        (ok) => ok.forEach(({ value }) => process.stdout.write(value)),
      );
    });
}
