/** The signed upgrade bundle format: written by the image builder, verified by nodes and host tools. */
export { BUNDLE_MAGIC, verifyBundle, writeBundle } from "./bundle-format.js";
export type { BundleManifest, BundlePart, BundlePartName, LocatedPart, VerifiedBundle } from "./bundle-format.js";
export { BUNDLE_PART_NAMES, parseManifest } from "./bundle-manifest.js";
export { BundleStreamVerifier } from "./bundle-stream.js";
