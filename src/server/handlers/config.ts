import type { MachineServiceServer } from "../../api/index.js";
import { unary, type HandlerEnv } from "../handler-kit.js";
import type { NodeApi } from "../node-api.js";

/** ApplyConfiguration and GetConfiguration. */
export function configHandlers(env: HandlerEnv, node: NodeApi): Pick<MachineServiceServer, "applyConfiguration" | "getConfiguration"> {
  return {
    applyConfiguration: unary(env, "applyConfiguration", (req) => node.config.apply(req)),
    getConfiguration: unary(env, "getConfiguration", (req) => node.config.get(req.staged)),
  };
}
