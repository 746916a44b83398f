import { verifyBundle, type VerifiedBundle } from "../../machinery/bundle/index.js";
import { CairnError } from "../../errors/index.js";
import { compareSemver } from "./semver.js";

/**
 * Checks a spooled bundle before anything is written: signed by a trusted
 * key (PERMISSION_DENIED otherwise), intact (INVALID_ARGUMENT), for this
 * node's architecture, and newer than what runs unless `force`
 * (FAILED_PRECONDITION).
 */
export async function verifyUpload(
  spoolPath: string,
  o: { trustedKeys: readonly string[]; arch: string; runningVersion: string; force: boolean },
): Promise<VerifiedBundle> {
  if (o.trustedKeys.length === 0) {
    throw new CairnError("FAILED_PRECONDITION", "no trusted release keys: the image ships none and machine.update.publicKeys is empty");
  }
  const bundle = await verifyBundle(spoolPath, o.trustedKeys);
  const { version, arch } = bundle.manifest;
  if (arch !== o.arch) throw new CairnError("FAILED_PRECONDITION", `bundle is for ${arch}, this node is ${o.arch}`);
  if (!o.force && compareSemver(version, o.runningVersion) <= 0) {
    throw new CairnError("FAILED_PRECONDITION", `refusing to install ${version}: it is not newer than the running ${o.runningVersion}`, {
      hint: "pass --force to install the same or an older version",
    });
  }
  return bundle;
}
