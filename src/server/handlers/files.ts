import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { posix } from "node:path";
import type { FileInfo, MachineServiceServer } from "../../api/index.js";
import { CairnError } from "../../errors/index.js";
import { deniedReason, FilePolicy, normaliseNodePath } from "../file-policy.js";
import { serverStream, type HandlerEnv } from "../handler-kit.js";
import type { NodeApi } from "../node-api.js";
import { streamTarGz } from "../tar-copy.js";

async function info(nodePath: string, host: string): Promise<FileInfo> {
  const st = await lstat(host);
  const type = st.isFile() ? "file" : st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : "other";
  return {
    path: nodePath,
    type,
    size: st.size,
    mode: st.mode & 0o7777,
    modifiedUnixMs: Math.trunc(st.mtimeMs),
    linkTarget: st.isSymbolicLink() ? await readlink(host) : "",
    error: "",
  };
}

/**
 * List, Read and Copy: read-only by construction, every path decided by
 * the one FilePolicy (allow-list by role, deny list, real-path checks).
 */
export function fileHandlers(env: HandlerEnv, node: NodeApi): Pick<MachineServiceServer, "list" | "read" | "copy"> {
  const policy = new FilePolicy(node.platform);
  return {
    list: serverStream(env, "list", async (req, ctx, send) => {
      const top = await policy.resolve(normaliseNodePath(req.path || "/"), ctx.roles, "list");
      const maxDepth = req.recursive ? (req.maxDepth === 0 ? Infinity : req.maxDepth) : 1;
      const walk = async (nodeDir: string, hostDir: string, depth: number): Promise<void> => {
        const entries = await readdir(hostDir).catch(() => [] as string[]);
        for (const name of entries.sort()) {
          if (ctx.signal.aborted) return;
          const childNode = posix.join(nodeDir, name);
          if (deniedReason(childNode)) continue;
          const childHost = posix.join(hostDir, name);
          const fi = await info(childNode, childHost).catch((e: Error) => ({ path: childNode, type: "other", size: 0, mode: 0, modifiedUnixMs: 0, linkTarget: "", error: e.message }));
          await send(fi);
          if (fi.type === "dir" && depth < maxDepth) await walk(childNode, childHost, depth + 1);
        }
      };
      const first = await info(top.path, top.host);
      if (first.type !== "dir") await send(first);
      else await walk(top.path, top.host, 1);
    }),
    read: serverStream(env, "read", async (req, ctx, send) => {
      const { path, host } = await policy.resolve(req.path, ctx.roles, "read");
      const st = await lstat(host);
      if (st.isDirectory()) throw new CairnError("FAILED_PRECONDITION", `${path} is a directory`, { hint: "use ls, or copy for a tar.gz of it" });
      // Character devices, FIFOs and sockets: an open or read could block or reach hardware.
      if (!st.isFile()) throw new CairnError("FAILED_PRECONDITION", `${path} is not a regular file`);
      const stream = createReadStream(host, { highWaterMark: 64 * 1024 });
      ctx.signal.addEventListener("abort", () => stream.destroy(), { once: true });
      for await (const chunk of stream) await send({ data: chunk as Buffer });
    }),
    copy: serverStream(env, "copy", async (req, ctx, send) => {
      const top = await policy.resolve(req.path, ctx.roles, "read");
      await streamTarGz({ top, policy, roles: ctx.roles, signal: ctx.signal, write: (data) => send({ data }), log: env.log });
    }),
  };
}
