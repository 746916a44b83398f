import { CairnError } from "../errors/index.js";
import type { Image } from "./containerd/api.js";
import { hasCode, type CallExtras, type ContainerdClient } from "./containerd/client.js";
import { readJsonBlob, setBlobLabels } from "./content-store.js";
import { selectPlatform } from "./oci/platform.js";
import { INDEX_TYPES, MANIFEST_TYPES, type OciDescriptor, type OciImageConfig, type OciIndex, type OciManifest } from "./oci/types.js";
import { unpackImage } from "./unpack.js";

/** An image as the API will list it. */
export interface ImageSummary {
  readonly name: string;
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  readonly createdAt: Date | undefined;
}

/** An image resolved down to this node's platform. */
export interface ResolvedImage {
  readonly name: string;
  readonly target: OciDescriptor;
  readonly manifest: OciManifest;
  readonly config: OciImageConfig;
}

/** Creates or repoints the image record `name` at `target` (an index or a manifest). */
export async function storeImageRecord(ctd: ContainerdClient, name: string, target: OciDescriptor, extras: CallExtras = {}): Promise<void> {
  const image: Image = {
    name,
    labels: {},
    target: { mediaType: target.mediaType, digest: target.digest, size: target.size, annotations: {} },
    createdAt: undefined,
    updatedAt: undefined,
  };
  try {
    await ctd.call(ctd.images.create.bind(ctd.images), { image }, `create image ${name}`, extras);
  } catch (e) {
    if (!hasCode(e, "ALREADY_EXISTS")) throw e;
    await ctd.call(ctd.images.update.bind(ctd.images), { image, updateMask: ["target"] }, `update image ${name}`, extras);
  }
}

/** The GC labels that keep a manifest's config and layers alive while the manifest is. */
export async function labelManifest(ctd: ContainerdClient, desc: OciDescriptor, manifest: OciManifest, extras: CallExtras = {}): Promise<void> {
  const labels: Record<string, string> = { "containerd.io/gc.ref.content.config": manifest.config.digest };
  manifest.layers.forEach((l, i) => (labels[`containerd.io/gc.ref.content.l.${i}`] = l.digest));
  await setBlobLabels(ctd, desc.digest, labels, extras);
}

/** The GC labels that keep an index's manifests alive while the index is. */
export async function labelIndex(ctd: ContainerdClient, desc: OciDescriptor, index: OciIndex, extras: CallExtras = {}): Promise<void> {
  const labels: Record<string, string> = {};
  index.manifests.forEach((m, i) => (labels[`containerd.io/gc.ref.content.m.${i}`] = m.digest));
  await setBlobLabels(ctd, desc.digest, labels, extras);
}

/** Follows an image's target (index → this platform's manifest) and reads manifest and config. */
export async function resolveImage(ctd: ContainerdClient, name: string, extras: CallExtras = {}): Promise<ResolvedImage> {
  const { image } = await ctd.call(ctd.images.get.bind(ctd.images), { name }, `get image ${name}`, extras);
  const t = image?.target;
  if (!t) throw new CairnError("NOT_FOUND", `image ${name} has no target`);
  const target: OciDescriptor = { mediaType: t.mediaType, digest: t.digest, size: t.size };
  let manifestDesc = target;
  if (INDEX_TYPES.includes(target.mediaType)) {
    manifestDesc = selectPlatform(await readJsonBlob<OciIndex>(ctd, target.digest, extras), `image ${name}`);
  }
  if (!MANIFEST_TYPES.includes(manifestDesc.mediaType)) {
    throw new CairnError("FAILED_PRECONDITION", `image ${name}: unsupported manifest media type ${manifestDesc.mediaType}`);
  }
  const manifest = await readJsonBlob<OciManifest>(ctd, manifestDesc.digest, extras);
  const config = await readJsonBlob<OciImageConfig>(ctd, manifest.config.digest, extras);
  return { name, target, manifest, config };
}

/** Unpacks the image for this node (idempotent); returns the rootfs parent chain ID. */
export async function unpackByName(ctd: ContainerdClient, name: string, snapshotter: string, extras: CallExtras = {}): Promise<ResolvedImage & { chainId: string }> {
  const resolved = await resolveImage(ctd, name, extras);
  const chainId = await unpackImage(ctd, resolved.manifest, resolved.config, snapshotter, extras);
  return { ...resolved, chainId };
}

/** Every image in the namespace, by name. */
export async function listImages(ctd: ContainerdClient): Promise<ImageSummary[]> {
  const { images } = await ctd.call(ctd.images.list.bind(ctd.images), { filters: [] }, "list images");
  return images
    .map((i) => ({
      name: i.name,
      digest: i.target?.digest ?? "",
      mediaType: i.target?.mediaType ?? "",
      size: i.target?.size ?? 0,
      createdAt: i.createdAt,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Removes an image record; containerd's GC then drops its content and unpacked
 * snapshots unless a container still uses them. `sync` waits for that GC.
 */
export async function removeImage(ctd: ContainerdClient, name: string): Promise<void> {
  await ctd.call(ctd.images.delete.bind(ctd.images), { name, sync: true }, `remove image ${name}`);
}
