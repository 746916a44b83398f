import { createWriteStream } from "node:fs";
import { once } from "node:events";
import type { Command } from "commander";
import type { FileInfo } from "../../api/index.js";
import { CairnError } from "../../errors/index.js";
import { onNodes } from "../context.js";
import { structured, table } from "../output.js";
import { parseCount } from "../parse-flags.js";

/** ls, read and copy: the read-only window into a node's file system. */
export function registerFiles(program: Command): void {
  program
    .command("ls [path]")
    .description("list files on nodes (anywhere but STATE, /dev and /proc's escape hatches)")
    .option("-l, --long", "mode, type, size and modification time")
    .option("-r, --recursive", "descend into directories")
    .option("--depth <n>", "with -r: how deep (0 = unlimited)", parseCount, 0)
    .action(async (path: string | undefined, flags: { long?: boolean; recursive?: boolean; depth: number }, cmd: Command) => {
      await onNodes(
        cmd,
        async (c) => {
          const out: FileInfo[] = [];
          for await (const f of c.list({ path: path ?? "/", recursive: flags.recursive ?? false, maxDepth: flags.depth })) out.push(f);
          return out;
        },
        (ok, g) => {
          if (g.format !== "table") return void process.stdout.write(`${structured(g.format, ok.map((r) => ({ node: r.node, files: r.value })))}\n`);
          const name = (f: FileInfo) => f.path + (f.linkTarget ? ` -> ${f.linkTarget}` : "") + (f.error ? ` (${f.error})` : "");
          if (!flags.long) return void process.stdout.write(`${table(["NODE", "PATH"], ok.flatMap(({ node, value }) => value.map((f) => [node, name(f)])))}\n`);
          const rows = ok.flatMap(({ node, value }) => value.map((f) => [node, `0${f.mode.toString(8)}`, f.type, f.size, new Date(f.modifiedUnixMs).toISOString().slice(0, 19).replace("T", " "), name(f)]));
          process.stdout.write(`${table(["NODE", "MODE", "TYPE", "SIZE", "MODIFIED", "PATH"], rows)}\n`);
        },
      );
    });
  program
    .command("read <path>")
    .description("print a file from nodes (readers: /var/log; operators and admins: also /proc, /sys, /run, /etc)")
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
  program
    .command("copy <path>")
    .description("download a file or directory as a .tar.gz (same allow-list as read)")
    .option("--output <file>", "where to write the archive ('-' for stdout)", "-")
    .action(async (path: string, flags: { output: string }, cmd: Command) => {
      const many = (cmd.optsWithGlobals<{ nodes?: string[] }>().nodes?.length ?? 0) > 1;
      if (many) throw new CairnError("INVALID_ARGUMENT", "copy takes one node (-n): the archives of several nodes cannot share one output");
      await onNodes(
        cmd,
        async (c) => {
          const out = flags.output === "-" ? process.stdout : createWriteStream(flags.output, { mode: 0o600 });
          let bytes = 0;
          for await (const chunk of c.copy(path)) {
            bytes += chunk.data.length;
            if (!out.write(chunk.data)) await once(out, "drain");
          }
          if (out !== process.stdout) await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
          return bytes;
        },
        (ok) => {
          if (flags.output !== "-") ok.forEach(({ node, value }) => process.stderr.write(`${node}: wrote ${value} bytes to ${flags.output}\n`));
        },
      );
    });
}
