import type { MachineServiceServer } from "../api/index.js";
import type { HandlerEnv } from "./handler-kit.js";
import { configHandlers } from "./handlers/config.js";
import { fileHandlers } from "./handlers/files.js";
import { inspectHandlers } from "./handlers/inspect.js";
import { lifecycleHandlers } from "./handlers/lifecycle.js";
import { logHandlers } from "./handlers/logs.js";
import { nodeInfoHandlers } from "./handlers/node-info.js";
import { resourceHandlers } from "./handlers/resources.js";
import { serviceHandlers } from "./handlers/services.js";
import { workloadHandlers } from "./handlers/workloads.js";
import type { NodeApi } from "./node-api.js";

/**
 * The complete MachineService implementation, one module per area. The
 * `satisfies` makes a missing RPC a compile error.
 */
export function machineService(env: HandlerEnv, node: NodeApi): MachineServiceServer {
  const impl = {
    ...nodeInfoHandlers(env, node),
    ...configHandlers(env, node),
    ...lifecycleHandlers(env, node),
    ...serviceHandlers(env, node),
    ...logHandlers(env, node),
    ...fileHandlers(env, node),
    ...inspectHandlers(env, node),
    ...resourceHandlers(env, node),
    ...workloadHandlers(env, node),
  } satisfies MachineServiceServer;
  return impl;
}
