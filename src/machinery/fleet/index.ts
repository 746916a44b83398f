/** Fleet reboot coordination: an etcd semaphore (over etcd's JSON gateway) and the FleetLock protocol. */
export { EtcdClient, prefixEnd } from "./etcd-gateway.js";
export type { Compare, EtcdTls, KeyValue, TxnOp, WatchEvent } from "./etcd-gateway.js";
export { Holder, RebootSemaphore } from "./reboot-semaphore.js";
export type { BadMark, HolderInfo, HolderState, SemaphoreOptions } from "./reboot-semaphore.js";
export { FLEETLOCK_GROUP, FLEETLOCK_HEADER, FleetLockClient } from "./fleetlock-client.js";
export type { FleetLockParams } from "./fleetlock-client.js";
export { createFleetLockServer } from "./fleetlock-server.js";
export type { FleetLockServerOptions } from "./fleetlock-server.js";
