import { ServiceAction, type MachineServiceServer } from "../../api/index.js";
import { CairnError } from "../../errors/index.js";
import { unary, type HandlerEnv } from "../handler-kit.js";
import type { NodeApi } from "../node-api.js";

/** ServiceList and ServiceControl. */
export function serviceHandlers(env: HandlerEnv, node: NodeApi): Pick<MachineServiceServer, "serviceList" | "serviceControl"> {
  return {
    serviceList: unary(env, "serviceList", async () => ({ services: node.services.list() })),
    serviceControl: unary(env, "serviceControl", async (req) => {
      if (req.action === ServiceAction.SERVICE_ACTION_UNSPECIFIED || req.action === ServiceAction.UNRECOGNIZED) {
        throw new CairnError("INVALID_ARGUMENT", "action must be start, stop or restart", { details: [{ path: "action", message: "unspecified" }] });
      }
      return { service: await node.services.control(req.id, req.action) };
    }),
  };
}
