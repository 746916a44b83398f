import type { MachineServiceServer, UpgradeHeader } from "../../api/index.js";
import { CairnError } from "../../errors/index.js";
import { clientStream, unary, type HandlerEnv } from "../handler-kit.js";
import { API_LIMITS } from "../limits.js";
import type { NodeApi } from "../node-api.js";

const WIPE_AREAS = new Set(["state", "ephemeral"]);

/**
 * The next upload message, or DEADLINE_EXCEEDED when the client sends
 * nothing for `ms`: a stalled upload would otherwise hold the upgrade lock
 * (and its spool file) for as long as the connection lives.
 */
async function nextWithin<T>(it: AsyncIterator<T>, ms: number): Promise<IteratorResult<T>> {
  let timer: NodeJS.Timeout | undefined;
  const idle = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CairnError("DEADLINE_EXCEEDED", `the Upgrade upload sent nothing for ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([it.next(), idle]);
  } finally {
    clearTimeout(timer);
  }
}

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
      const first = await nextWithin(it, API_LIMITS.upgradeIdleMs);
      if (first.done || first.value.msg?.$case !== "header") {
        throw new CairnError("INVALID_ARGUMENT", "the first Upgrade message must be a header");
      }
      const header: UpgradeHeader = first.value.msg.header;
      async function* chunks(): AsyncIterable<Uint8Array> {
        for (;;) {
          const next = await nextWithin(it, API_LIMITS.upgradeIdleMs);
          if (next.done) return;
          if (next.value.msg?.$case !== "chunk") throw new CairnError("INVALID_ARGUMENT", "only chunks may follow the Upgrade header");
          const chunk = next.value.msg.chunk;
          if (chunk.length > API_LIMITS.maxUpgradeChunkBytes) {
            throw new CairnError("INVALID_ARGUMENT", `an Upgrade chunk of ${chunk.length} bytes is over the ${API_LIMITS.maxUpgradeChunkBytes}-byte limit`);
          }
          yield chunk;
        }
      }
      return node.upgrade.install(header, chunks());
    }),
    rollback: unary(env, "rollback", (req) => node.upgrade.rollback(req.reboot)),
  };
}
