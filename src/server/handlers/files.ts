import { createReadStream } from "node:fs";
import { lstat, readdir, readlink, realpath } from "node:fs/promises";
import { posix } from "node:path";
import type { FileInfo, MachineServiceServer } from "../../api/index.js";
import { CairnError } from "../../errors/index.js";
import { serverStream, type HandlerEnv } from "../handler-kit.js";
import type { NodeApi } from "../node-api.js";

/**
 * Node paths the file RPCs never expose: the STATE partition holds the
 * node's keys and config, /dev gives raw disks, QEMU's fw_cfg holds the
 * first-boot config (with the CA key) for the life of the VM, and
 * /proc/kcore is the kernel's memory. Checked on the resolved real path, so
 * a symlink cannot lead around it.
 */
const DENIED = ["/system/state", "/dev", "/sys/firmware/qemu_fw_cfg", "/proc/kcore"];

/** A process's memory and environment (machined's own holds its keys): /proc/<pid>/mem, /proc/self/task/<tid>/environ, ... */
const PROC_SECRETS = /^\/proc\/(?:\d+|self|thread-self)(?:\/task\/\d+)?\/(?:mem|environ|pagemap|map_files)(?:\/|$)/;

function normalise(path: string): string {
  if (!path.startsWith("/")) throw new CairnError("INVALID_ARGUMENT", `path must be absolute: "${path}"`, { details: [{ path: "path", message: "not absolute" }] });
  return posix.normalize(path).replace(/(.)\/$/, "$1");
}

async function resolveAllowed(node: NodeApi, nodePath: string): Promise<string> {
  const path = normalise(nodePath);
  const under = (p: string, root: string) => p === root || p.startsWith(`${root}/`);
  if (DENIED.some((d) => under(path, d)) || PROC_SECRETS.test(path)) throw new CairnError("PERMISSION_DENIED", `${path} is not readable over the API`);
  const host = node.platform.hostPath(path);
  let real: string;
  try {
    real = await realpath(host);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new CairnError("NOT_FOUND", `${path}: no such file or directory`);
    throw e;
  }
  if (PROC_SECRETS.test(real)) throw new CairnError("PERMISSION_DENIED", `${path} leads to process memory or environment, which is not readable over the API`);
  for (const d of DENIED) {
    const deniedReal = await realpath(node.platform.hostPath(d)).catch(() => node.platform.hostPath(d));
    if (under(real, deniedReal)) throw new CairnError("PERMISSION_DENIED", `${path} leads into ${d}, which is not readable over the API`);
  }
  return host;
}

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

/** List and Read over allow-listed paths; read-only by construction. */
export function fileHandlers(env: HandlerEnv, node: NodeApi): Pick<MachineServiceServer, "list" | "read"> {
  return {
    list: serverStream(env, "list", async (req, ctx, send) => {
      const root = normalise(req.path || "/");
      const host = await resolveAllowed(node, root);
      const maxDepth = req.recursive ? (req.maxDepth === 0 ? Infinity : req.maxDepth) : 1;
      const walk = async (nodeDir: string, hostDir: string, depth: number): Promise<void> => {
        const entries = await readdir(hostDir).catch(() => [] as string[]);
        for (const name of entries.sort()) {
          if (ctx.signal.aborted) return;
          const childNode = posix.join(nodeDir, name);
          if (DENIED.includes(childNode)) continue;
          const childHost = posix.join(hostDir, name);
          const fi = await info(childNode, childHost).catch((e: Error) => ({ path: childNode, type: "other", size: 0, mode: 0, modifiedUnixMs: 0, linkTarget: "", error: e.message }));
          await send(fi);
          if (fi.type === "dir" && depth < maxDepth) await walk(childNode, childHost, depth + 1);
        }
      };
      const top = await info(root, host);
      if (top.type !== "dir") await send(top);
      else await walk(root, host, 1);
    }),
    read: serverStream(env, "read", async (req, ctx, send) => {
      const path = normalise(req.path);
      const host = await resolveAllowed(node, path);
      const st = await lstat(host);
      if (st.isDirectory()) throw new CairnError("FAILED_PRECONDITION", `${path} is a directory`, { hint: "use List" });
      const stream = createReadStream(host, { highWaterMark: 64 * 1024 });
      ctx.signal.addEventListener("abort", () => stream.destroy(), { once: true });
      for await (const chunk of stream) await send({ data: chunk as Buffer });
    }),
  };
}
