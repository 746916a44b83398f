/** Support bundles: one tar.gz with each node's diagnostics, for bug reports (nodectl support). */
export { collectNode, errorText, safeName, NODE_ITEMS, type BundleFile, type CollectFailure, type CollectItem, type NodeCollection } from "./collect-node.js";
export { summarize, summaryText, writeSupportArchive, type BundleSummary } from "./write-archive.js";
export { scrubPrivateKeys, SCRUBBED } from "./scrub-keys.js";
export { readTarGz } from "./read-archive.js";
