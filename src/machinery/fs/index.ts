// Crash-safe file helpers shared by the node (STATE) and host tools (client config).
export { writeFileAtomic, removeFileDurable, errnoCode, fsError } from "./atomic-write.js";
export { readTextIfExists } from "./read-optional.js";
