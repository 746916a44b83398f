import { Readable } from "node:stream";
import type { ContainerInfo, MachineServiceServer } from "../../api/index.js";
import { CairnError } from "../../errors/index.js";
import { replayAndFollow } from "../follow.js";
import { clientStream, serverStream, unary, type HandlerEnv } from "../handler-kit.js";
import { API_LIMITS } from "../limits.js";
import type { ApiWorkload, NodeApi, WorkloadsApi } from "../node-api.js";

function runtime(node: NodeApi): WorkloadsApi {
  if (!node.workloads) throw new CairnError("FAILED_PRECONDITION", "this node has no container runtime (a process-mode node runs workloads only with CAIRN_CONTAINERD_SOCKET)");
  return node.workloads;
}

function toInfo(w: ApiWorkload): ContainerInfo {
  return {
    name: w.name,
    image: w.image,
    state: w.state,
    pid: w.pid ?? 0,
    restarts: w.restarts,
    lastExitStatus: w.lastExitStatus ?? -1,
    lastOomKilled: w.lastOomKilled,
    message: w.message ?? "",
  };
}

function find(wl: WorkloadsApi, name: string): ApiWorkload {
  if (!name) throw new CairnError("INVALID_ARGUMENT", "name: a workload name is required");
  const all = wl.list();
  const w = all.find((x) => x.name === name);
  if (!w) throw new CairnError("NOT_FOUND", `no workload "${name}"`, { hint: `workloads: ${all.map((x) => x.name).join(", ") || "none (machine.workloads is empty)"}` });
  return w;
}

/** ContainerList, ContainerLogs, ContainerRestart, ImageList, ImageImport, ImageRemove. */
export function workloadHandlers(
  env: HandlerEnv,
  node: NodeApi,
): Pick<MachineServiceServer, "containerList" | "containerLogs" | "containerRestart" | "imageList" | "imageImport" | "imageRemove"> {
  return {
    containerList: unary(env, "containerList", async () => ({ containers: runtime(node).list().map(toInfo) })),
    containerLogs: serverStream(env, "containerLogs", async (req, ctx, send) => {
      const wl = runtime(node);
      find(wl, req.name);
      const service = wl.logService(req.name);
      const toEntry = (l: { timeUnixMs: number; level: string; message: string }) => ({ name: req.name, timeUnixMs: l.timeUnixMs, stream: l.level, line: l.message });
      await replayAndFollow({
        replay: () => {
          const kept = node.logs.tail(service, 0);
          return req.tailLines > 0 ? kept.slice(-req.tailLines) : kept;
        },
        subscribe: (fn) => node.logs.subscribe((l) => l.service === service && fn(l)),
        follow: req.follow,
        signal: ctx.signal,
        send: (l) => send(toEntry(l)),
      });
    }),
    containerRestart: unary(env, "containerRestart", async (req) => {
      const wl = runtime(node);
      find(wl, req.name);
      await wl.restart(req.name);
      return { container: toInfo(find(wl, req.name)) };
    }),
    imageList: unary(env, "imageList", async () => {
      const images = await runtime(node).listImages();
      return { images: images.map((i) => ({ name: i.name, digest: i.digest, mediaType: i.mediaType, size: i.size, createdUnixMs: i.createdAt?.getTime() ?? 0 })) };
    }),
    imageImport: clientStream(env, "imageImport", async (messages) => {
      const wl = runtime(node);
      const it = messages[Symbol.asyncIterator]();
      const first = await it.next();
      if (first.done || first.value.msg?.$case !== "header") throw new CairnError("INVALID_ARGUMENT", "the first ImageImport message must be a header");
      const header = first.value.msg.header;
      async function* chunks(): AsyncIterable<Buffer> {
        for (;;) {
          const next = await it.next();
          if (next.done) return;
          if (next.value.msg?.$case !== "chunk") throw new CairnError("INVALID_ARGUMENT", "only chunks may follow the ImageImport header");
          const chunk = next.value.msg.chunk;
          if (chunk.length > API_LIMITS.maxUpgradeChunkBytes) {
            throw new CairnError("INVALID_ARGUMENT", `an ImageImport chunk of ${chunk.length} bytes is over the ${API_LIMITS.maxUpgradeChunkBytes}-byte limit`);
          }
          yield Buffer.from(chunk);
        }
      }
      const names = await wl.importImage(Readable.from(chunks()), header.name || undefined, header.fileName || "the archive");
      return { names };
    }),
    imageRemove: unary(env, "imageRemove", async (req) => {
      if (!req.name) throw new CairnError("INVALID_ARGUMENT", "name: an image name is required");
      await runtime(node).removeImage(req.name);
      return {};
    }),
  };
}
