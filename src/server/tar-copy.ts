import { createReadStream } from "node:fs";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { posix } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import tar from "tar-stream";
import type { Logger } from "pino";
import { deniedReason, type FilePolicy, type ResolvedPath } from "./file-policy.js";

/** Files up to this size are read whole: /proc and /sys files report size 0 or 4096 whatever they hold. */
const READ_WHOLE_BYTES = 1 << 20;

/**
 * Streams a gzip'd tar of `top` (a file or a directory tree) into `write`.
 * Every file is re-checked by the policy (so a bind mount or a denied /proc
 * entry inside an allowed directory stays out); symlinks are stored as
 * links, never followed; devices, FIFOs and sockets are skipped (a FIFO's
 * open would block). Entries that vanish or cannot be read are skipped.
 */
export async function streamTarGz(opts: {
  top: ResolvedPath;
  policy: FilePolicy;
  roles: readonly string[];
  signal: AbortSignal;
  write: (chunk: Buffer) => Promise<void>;
  log: Logger;
}): Promise<void> {
  const pack = tar.pack();
  const gzip = createGzip();
  let skipped = 0;
  const fill = async (): Promise<void> => {
    const addFile = async (path: string, host: string) => {
      try {
        const ok = await opts.policy.resolve(path, opts.roles, "read");
        const st = await lstat(ok.host);
        const header = { name: path.slice(1), mode: st.mode & 0o7777, mtime: st.mtime };
        if (st.size <= READ_WHOLE_BYTES) {
          const data = await readFile(ok.host);
          await new Promise<void>((resolve, reject) => pack.entry({ ...header, size: data.length }, data, (e) => (e ? reject(e) : resolve())));
          return;
        }
        // Logs grow while we copy: take exactly the size stat saw.
        const entry = pack.entry({ ...header, size: st.size });
        await pipeline(createReadStream(ok.host, { start: 0, end: st.size - 1 }), entry);
      } catch (e) {
        skipped++;
        opts.log.debug({ path, err: (e as Error).message, host }, "copy: entry skipped");
      }
    };
    const walk = async (path: string, host: string): Promise<void> => {
      if (opts.signal.aborted) return;
      const st = await lstat(host).catch(() => undefined);
      if (!st) return;
      if (st.isSymbolicLink()) {
        const target = await readlink(host).catch(() => "");
        pack.entry({ name: path.slice(1), type: "symlink", linkname: target, mtime: st.mtime });
      } else if (st.isDirectory()) {
        pack.entry({ name: path.slice(1), type: "directory", mode: st.mode & 0o7777, mtime: st.mtime });
        for (const name of (await readdir(host).catch(() => [] as string[])).sort()) {
          const child = posix.join(path, name);
          if (deniedReason(child)) continue;
          await walk(child, posix.join(host, name));
        }
      } else if (st.isFile()) {
        await addFile(path, host);
      }
    };
    try {
      await walk(opts.top.path, opts.top.host);
    } finally {
      pack.finalize();
    }
  };
  const filling = fill();
  const sending = (async () => {
    pack.pipe(gzip);
    for await (const chunk of gzip) {
      if (opts.signal.aborted) {
        pack.destroy();
        return;
      }
      await opts.write(chunk as Buffer);
    }
  })();
  await Promise.all([filling, sending]);
  opts.log.info({ path: opts.top.path, skipped }, "copy done");
}
