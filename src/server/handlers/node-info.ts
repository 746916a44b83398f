import type { MachineServiceServer } from "../../api/index.js";
import { unary, type HandlerEnv } from "../handler-kit.js";
import type { NodeApi } from "../node-api.js";

/** Version and Stats: what is running and how it is doing. */
export function nodeInfoHandlers(env: HandlerEnv, node: NodeApi): Pick<MachineServiceServer, "version" | "stats"> {
  return {
    version: unary(env, "version", async () => node.version()),
    stats: unary(env, "stats", async () => {
      const s = await node.platform.stats();
      return {
        memory: s.memory,
        cpu: s.cpu,
        load: s.load,
        disks: [...s.disks],
        mounts: [...s.mounts],
        network: s.network.map((n) => ({ ...n, addresses: [...n.addresses] })),
        uptimeSeconds: s.uptimeSeconds,
      };
    }),
  };
}
