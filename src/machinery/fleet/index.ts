/** Fleet reboot coordination: an etcd semaphore (over etcd's JSON gateway) and the FleetLock protocol. */
export { EtcdClient, prefixEnd } from "./etcd-gateway.js";
export type { Compare, EtcdTls, KeyValue, TxnOp, WatchEvent } from "./etcd-gateway.js";
export { Holder, RebootSemaphore } from "./reboot-semaphore.js";
export type { BadMark, HolderInfo, HolderState, SemaphoreOptions } from "./reboot-semaphore.js";
