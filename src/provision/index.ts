// QEMU provisioner: host-side library behind `nodectl cluster create|destroy|list`
// and the e2e fixtures. Imports only errors/ and zod; never node-side code.

// Relevant to end users (nodectl, e2e tests).
export { detectAccel, type DetectAccelOptions } from "./accel.js";
export { launchNode, NODE_FILES } from "./launch-node.js";
export type { NodeHandle, PowerOffOutcome, LaunchTimings } from "./node-handle.js";
export {
  createCluster,
  destroyCluster,
  listClusters,
  attachNode,
  nodeName,
  DESTROY_GRACE_MS,
  type CreateClusterOptions,
  type ClusterListing,
} from "./cluster.js";
export { CLUSTER_FILE, resolveStateRoot, type ClusterState } from "./cluster-state.js";
export { cleanupOnExit, type Cleanup } from "./cleanup.js";
export { QmpClient, type QmpEvent, type QmpStatus, type QmpConnectOptions } from "./qmp-client.js";
export { QmpError } from "./qmp-error.js";
export type { Accel, HostFwd, NodeLaunchSpec, NodeState } from "./types.js";

// Building blocks, exported for tests and tools; not a stable surface.
export { qemuArgs, GUEST_API_PORT, FW_CFG_CONFIG_NAME } from "./qemu-args.js";
export { resolveLaunchSpec, DEFAULT_MEMORY_MIB, DEFAULT_CPUS } from "./resolve-spec.js";
export { pickFreePort } from "./free-port.js";
export { findFirmware } from "./firmware.js";
export { isAlive } from "./process-liveness.js";
