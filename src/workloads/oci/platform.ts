import { CairnError } from "../../errors/index.js";
import { NODE_PLATFORM, type OciDescriptor, type OciIndex, type OciPlatform } from "./types.js";

/** Picks the manifest for this node's platform from an index (or manifest list). */
export function selectPlatform(index: OciIndex, where: string, want: OciPlatform = NODE_PLATFORM): OciDescriptor {
  const match = index.manifests.find(
    (m) => m.platform?.os === want.os && m.platform.architecture === want.architecture,
  );
  if (!match) {
    const have = index.manifests.map((m) => (m.platform ? `${m.platform.os}/${m.platform.architecture}` : "?")).join(", ");
    throw new CairnError("NOT_FOUND", `${where}: no manifest for ${want.os}/${want.architecture} (has: ${have || "none"})`);
  }
  return match;
}
