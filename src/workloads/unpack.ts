import { randomBytes } from "node:crypto";
import { CairnError } from "../errors/index.js";
import { hasCode, type CallExtras, type ContainerdClient } from "./containerd/client.js";
import { setBlobLabels } from "./content-store.js";
import { chainIds } from "./oci/digest.js";
import type { OciImageConfig, OciManifest } from "./oci/types.js";

/** The snapshotter Cairn uses: overlay on /var/lib/containerd (see docs/workloads.md). */
export const DEFAULT_SNAPSHOTTER = "overlayfs";

/**
 * Unpacks an image's layers into committed snapshots named by chain ID, the way
 * containerd's own client does: for each layer not yet unpacked, Prepare an
 * active snapshot on its parent, Diff.Apply the (compressed) layer blob from the
 * content store into its mounts, check the uncompressed digest against the
 * config's diff_id, and Commit it. Returns the top chain ID, the parent a
 * container's rootfs snapshot is prepared on.
 */
export async function unpackImage(
  ctd: ContainerdClient,
  manifest: OciManifest,
  config: OciImageConfig,
  snapshotter: string,
  extras: CallExtras = {},
): Promise<string> {
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new CairnError(
      "FAILED_PRECONDITION",
      `image config ${manifest.config.digest}: ${diffIds.length} diff_ids for ${manifest.layers.length} layers`,
    );
  }
  if (diffIds.length === 0) throw new CairnError("FAILED_PRECONDITION", `image ${manifest.config.digest} has no layers`);
  const chain = chainIds(diffIds);
  for (let i = 0; i < chain.length; i++) {
    const name = chain[i]!;
    if (await snapshotExists(ctd, snapshotter, name, extras)) continue;
    const layer = manifest.layers[i]!;
    const key = `extract-${randomBytes(6).toString("hex")}-${name}`;
    const parent = i === 0 ? "" : chain[i - 1]!;
    const prepared = await ctd.call(
      ctd.snapshots.prepare.bind(ctd.snapshots),
      { snapshotter, key, parent, labels: {} },
      `prepare snapshot for layer ${i}`,
      extras,
    );
    try {
      const applied = await ctd.call(
        ctd.diff.apply.bind(ctd.diff),
        {
          diff: { mediaType: layer.mediaType, digest: layer.digest, size: layer.size, annotations: {} },
          mounts: prepared.mounts,
          payloads: {},
        },
        `apply layer ${i} ${layer.digest}`,
        extras,
      );
      if (applied.applied?.digest !== diffIds[i]) {
        throw new CairnError(
          "FAILED_PRECONDITION",
          `layer ${i} ${layer.digest}: uncompressed digest ${applied.applied?.digest ?? "?"} differs from the config's diff_id ${diffIds[i]}`,
        );
      }
      await ctd.call(ctd.snapshots.commit.bind(ctd.snapshots), { snapshotter, name, key, labels: {} }, `commit layer ${i}`, extras);
    } catch (e) {
      await removeSnapshot(ctd, snapshotter, key, extras);
      if (hasCode(e, "ALREADY_EXISTS")) continue; // a concurrent unpack committed it first
      throw e;
    }
  }
  const top = chain[chain.length - 1]!;
  // containerd's GC keeps the unpacked snapshots while the config blob (kept by the image) points at them.
  await setBlobLabels(ctd, manifest.config.digest, { [`containerd.io/gc.ref.snapshot.${snapshotter}`]: top }, extras);
  return top;
}

async function snapshotExists(ctd: ContainerdClient, snapshotter: string, key: string, extras: CallExtras): Promise<boolean> {
  try {
    await ctd.call(ctd.snapshots.stat.bind(ctd.snapshots), { snapshotter, key }, `stat snapshot ${key}`, extras);
    return true;
  } catch (e) {
    if (hasCode(e, "NOT_FOUND")) return false;
    throw e;
  }
}

/** Removes a snapshot; absent is fine. */
export async function removeSnapshot(ctd: ContainerdClient, snapshotter: string, key: string, extras: CallExtras = {}): Promise<void> {
  try {
    await ctd.call(ctd.snapshots.remove.bind(ctd.snapshots), { snapshotter, key }, `remove snapshot ${key}`, extras);
  } catch (e) {
    if (!hasCode(e, "NOT_FOUND")) throw e;
  }
}
