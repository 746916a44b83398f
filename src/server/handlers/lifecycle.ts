import type { MachineServiceServer, UpgradeHeader } from "../../api/index.js";
import { CairnError } from "../../errors/index.js";
import { clientStream, unary, type HandlerEnv } from "../handler-kit.js";
import type { NodeApi } from "../node-api.js";

const WIPE_AREAS = new Set(["state", "ephemeral"]);

/** Reboot, Shutdown, Reset, Upgrade, Rollback: the node acts after the reply is sent. */
export function lifecycleHandlers(env: HandlerEnv, node: NodeApi): Pick<MachineServiceServer, "reboot" | "shutdown" | "reset" | "upgrade" | "rollback"> {
  return {
    reboot: unary(env, "reboot", async () => {
      const bootId = node.version().bootId;
      node.power.reboot();
      return { bootId };
    }),
    shutdown: unary(env, "shutdown", async () => {
      const bootId = node.version().bootId;
      node.power.shutdown();
      return { bootId };
    }),
    reset: unary(env, "reset", async (req) => {
      const unknown = req.wipe.filter((w) => !WIPE_AREAS.has(w));
      if (unknown.length > 0) {
        throw new CairnError("INVALID_ARGUMENT", `unknown area to wipe: ${unknown.join(", ")}`, {
          details: unknown.map((w) => ({ path: "wipe", message: `"${w}" is not one of state, ephemeral` })),
        });
      }
      const wiped = await node.power.reset(req.wipe.length === 0 ? [...WIPE_AREAS] : req.wipe, req.reboot);
      return { wiped: [...wiped] };
    }),
    upgrade: clientStream(env, "upgrade", async (messages) => {
      const it = messages[Symbol.asyncIterator]();
      const first = await it.next();
      if (first.done || first.value.msg?.$case !== "header") {
        throw new CairnError("INVALID_ARGUMENT", "the first Upgrade message must be a header");
      }
      const header: UpgradeHeader = first.value.msg.header;
      async function* chunks(): AsyncIterable<Uint8Array> {
        for (;;) {
          const next = await it.next();
          if (next.done) return;
          if (next.value.msg?.$case !== "chunk") throw new CairnError("INVALID_ARGUMENT", "only chunks may follow the Upgrade header");
          yield next.value.msg.chunk;
        }
      }
      return node.upgrade.install(header, chunks());
    }),
    rollback: unary(env, "rollback", (req) => node.upgrade.rollback(req.reboot)),
  };
}
