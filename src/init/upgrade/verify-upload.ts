import type { BundleManifest } from "../../machinery/bundle/index.js";
import { CairnError } from "../../errors/index.js";
import { compareSemver } from "./semver.js";

/** Refuses upgrading with no trusted key at all (FAILED_PRECONDITION), before any byte is taken. */
export function requireTrustedKeys(keys: readonly string[]): void {
  if (keys.length === 0) {
    throw new CairnError("FAILED_PRECONDITION", "no trusted release keys: the image ships none and machine.update.publicKeys is empty");
  }
}

/**
 * Checks a bundle's signed manifest as soon as it is trusted (the streaming
 * verifier calls this before any part byte arrives): for this node's
 * architecture, and newer than what runs unless `force` (FAILED_PRECONDITION).
 */
export function checkManifest(manifest: BundleManifest, o: { arch: string; runningVersion: string; force: boolean }): void {
  const { version, arch } = manifest;
  if (arch !== o.arch) throw new CairnError("FAILED_PRECONDITION", `bundle is for ${arch}, this node is ${o.arch}`);
  if (!o.force && compareSemver(version, o.runningVersion) <= 0) {
    throw new CairnError("FAILED_PRECONDITION", `refusing to install ${version}: it is not newer than the running ${o.runningVersion}`, {
      hint: "pass --force to install the same or an older version",
    });
  }
}
