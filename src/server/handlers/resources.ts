import type { MachineServiceServer } from "../../api/index.js";
import { unary, type HandlerEnv } from "../handler-kit.js";
import type { NodeApi } from "../node-api.js";

/** GetResources: observed node state, one kind per call. */
export function resourceHandlers(env: HandlerEnv, node: NodeApi): Pick<MachineServiceServer, "getResources"> {
  return {
    getResources: unary(env, "getResources", (req) => node.resources(req.kind)),
  };
}
