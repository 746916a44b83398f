// Fixtures for the process-mode integration tests: real machined
// subprocesses, the real nodectl CLI, and one generated cluster per file.
export { FatalError, NodeProcess, REPO, freePort, startNode, stopAllNodes, type Readiness, type StartOptions } from "./node.js";
export { nodectl, show, type NodectlResult } from "./nodectl.js";
export { TestCluster, type ConfigDoc } from "./cluster.js";
export { pollUntil, until } from "./poll.js";
export { expectCode, grpcError } from "./errors.js";
export { RawClient, type RawOutcome } from "./raw-client.js";
export { EtcdServer } from "./etcd.js";
export { ReleaseRepo, eventsWhen, loggedEvents, type LoggedEvent } from "./release-repo.js";
export { hasSlotSpan, replayHolders, slotSpan, spansDisjoint, type SlotSpan } from "./fleet-history.js";
export { windowAt } from "./windows.js";
