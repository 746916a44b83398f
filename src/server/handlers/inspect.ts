import type { MachineServiceServer } from "../../api/index.js";
import { unary, type HandlerEnv } from "../handler-kit.js";
import type { NodeApi } from "../node-api.js";

/** Processes, Memory, Disks, Mounts, Netstat: the platform's readings as messages. */
export function inspectHandlers(env: HandlerEnv, node: NodeApi): Pick<MachineServiceServer, "processes" | "memory" | "disks" | "mounts" | "netstat"> {
  const { inspect } = node.platform;
  return {
    processes: unary(env, "processes", async () => ({ processes: [...(await inspect.processes())] })),
    memory: unary(env, "memory", async () => {
      const m = await inspect.meminfo();
      return { totalBytes: m.get("MemTotal") ?? 0, freeBytes: m.get("MemFree") ?? 0, availableBytes: m.get("MemAvailable") ?? 0, fields: Object.fromEntries(m) };
    }),
    disks: unary(env, "disks", async () => ({ devices: (await inspect.blockDevices()).map((d) => ({ ...d, mountpoints: [...d.mountpoints] })) })),
    mounts: unary(env, "mounts", async () => ({
      mounts: (await node.platform.mounts()).map((m) => ({
        target: m.target,
        source: m.source,
        fstype: m.fstype,
        options: m.options,
        readOnly: m.readOnly,
        sizeBytes: m.sizeBytes,
        usedBytes: m.usedBytes,
        availableBytes: m.freeBytes,
      })),
    })),
    netstat: unary(env, "netstat", async (req) => {
      const all = await inspect.sockets();
      const listening = (s: (typeof all)[number]) => s.state === "LISTEN" || s.state === "UNCONN";
      return { sockets: req.listeningOnly ? all.filter(listening) : [...all] };
    }),
  };
}
