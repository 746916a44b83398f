import type { MachineServiceServer, StatsResponse } from "../../api/index.js";
import type { StatsSnapshot } from "../../platform/index.js";
import { unary, type HandlerEnv } from "../handler-kit.js";
import type { NodeApi } from "../node-api.js";

/** The platform's snapshot as the Stats message. */
export function statsResponse(s: StatsSnapshot): StatsResponse {
  return {
    memory: s.memory,
    cpu: { count: s.cpu.count, userSeconds: s.cpu.user, systemSeconds: s.cpu.system, idleSeconds: s.cpu.idle, iowaitSeconds: s.cpu.iowait },
    load: s.load,
    disks: [...s.disks],
    mounts: [...s.mounts],
    network: s.network.map((n) => ({ ...n, addresses: [...n.addresses] })),
    uptimeSeconds: s.uptimeSeconds,
    initOpenFds: s.initOpenFds,
  };
}

/** Version and Stats: what is running and how it is doing. */
export function nodeInfoHandlers(env: HandlerEnv, node: NodeApi): Pick<MachineServiceServer, "version" | "stats"> {
  return {
    version: unary(env, "version", async () => node.version()),
    stats: unary(env, "stats", async () => statsResponse(await node.platform.stats())),
  };
}
