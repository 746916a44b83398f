/** The node's unattended updater (machine.update): policy steps performed, state on STATE, fleet reboot slots. */
export { loadNodeId } from "./node-id.js";
export { Updater, type UpdaterDeps } from "./updater.js";
export { coordinatorFor, type RebootCoordinator } from "./coordinator.js";
