/** Semver lives with the release code (machinery/release); the node's upgrade path imports it from here. */
export { compareSemver, parseSemver, type SemVer } from "../../machinery/release/semver.js";
