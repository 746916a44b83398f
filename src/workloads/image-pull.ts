import { CairnError } from "../errors/index.js";
import type { ContainerdClient } from "./containerd/client.js";
import { writeBlob } from "./content-store.js";
import { labelIndex, labelManifest, storeImageRecord, unpackByName } from "./images.js";
import { withLease } from "./leases.js";
import { sha256Digest, verifyDigest } from "./oci/digest.js";
import { selectPlatform } from "./oci/platform.js";
import { parseReference } from "./oci/reference.js";
import { INDEX_TYPES, MANIFEST_TYPES, type OciDescriptor, type OciIndex, type OciManifest } from "./oci/types.js";
import { readBody } from "./registry/http.js";
import { RegistryClient, type RegistryAccess } from "./registry/client.js";
import { DEFAULT_SNAPSHOTTER } from "./unpack.js";

export interface PullOptions {
  /** Access per registry host[:port] (machine.registries). */
  readonly registries?: Readonly<Record<string, RegistryAccess>>;
  readonly snapshotter?: string;
}

export interface PullResult {
  readonly name: string;
  /** Digest of what the reference resolved to (index or manifest). */
  readonly digest: string;
  /** The rootfs parent snapshot (chain ID) of the unpacked image. */
  readonly chainId: string;
}

const ACCEPT = [...INDEX_TYPES, ...MANIFEST_TYPES];

/**
 * Pulls an image from an OCI/Docker v2 registry into containerd: resolves the
 * reference to an index or manifest, picks linux/amd64, downloads config and
 * layers into the content store (each verified against its digest while it
 * streams), records the image under its full name and unpacks it.
 */
export async function pullImage(ctd: ContainerdClient, reference: string, opts: PullOptions = {}): Promise<PullResult> {
  const ref = parseReference(reference);
  const registry = new RegistryClient(ref, opts.registries?.[ref.registry]);
  const snapshotter = opts.snapshotter ?? DEFAULT_SNAPSHOTTER;
  return withLease(ctd, async (lease) => {
    const extras = { lease };
    const top = await fetchManifest(registry, ref.digest ?? ref.tag!, ref.digest, reference);
    let manifestDoc = top;
    if (INDEX_TYPES.includes(top.desc.mediaType)) {
      const chosen = selectPlatform(JSON.parse(top.body.toString("utf8")) as OciIndex, reference);
      manifestDoc = await fetchManifest(registry, chosen.digest, chosen.digest, reference);
    }
    const manifest = JSON.parse(manifestDoc.body.toString("utf8")) as OciManifest;
    if (!manifest.config?.digest || !Array.isArray(manifest.layers)) {
      throw new CairnError("FAILED_PRECONDITION", `${reference}: manifest ${manifestDoc.desc.digest} has no config or layers`);
    }
    // Children first, so a parent in the store always has what it points at.
    for (const blob of [manifest.config, ...manifest.layers]) {
      const res = await registry.blob(blob.digest);
      await writeBlob(ctd, blob, res.body, {}, extras);
    }
    await writeBlob(ctd, manifestDoc.desc, manifestDoc.body, {}, extras);
    await labelManifest(ctd, manifestDoc.desc, manifest, extras);
    if (top !== manifestDoc) {
      await writeBlob(ctd, top.desc, top.body, {}, extras);
      await labelIndex(ctd, top.desc, JSON.parse(top.body.toString("utf8")) as OciIndex, extras);
    }
    await storeImageRecord(ctd, ref.name, top.desc, extras);
    const { chainId } = await unpackByName(ctd, ref.name, snapshotter, extras);
    return { name: ref.name, digest: top.desc.digest, chainId };
  });
}

async function fetchManifest(
  registry: RegistryClient,
  reference: string,
  expected: string | undefined,
  what: string,
): Promise<{ desc: OciDescriptor; body: Buffer }> {
  const res = await registry.manifest(reference, ACCEPT);
  const body = await readBody(res);
  const digest = sha256Digest(body);
  // By digest: the bytes must be those bytes. By tag: the registry's own digest header must agree.
  if (expected) verifyDigest(digest, expected, `${what}: manifest`);
  const headerDigest = res.headers["docker-content-digest"];
  if (typeof headerDigest === "string" && headerDigest.startsWith("sha256:")) verifyDigest(digest, headerDigest, `${what}: manifest`);
  const mediaType = (res.headers["content-type"] ?? "").split(";")[0]!.trim() || mediaTypeOf(body);
  if (!ACCEPT.includes(mediaType)) {
    throw new CairnError("FAILED_PRECONDITION", `${what}: unsupported manifest type ${mediaType} (schema 1 is not supported)`);
  }
  return { desc: { mediaType, digest, size: body.length }, body };
}

function mediaTypeOf(body: Buffer): string {
  const json = JSON.parse(body.toString("utf8")) as { mediaType?: string; manifests?: unknown };
  return json.mediaType ?? (json.manifests ? INDEX_TYPES[0]! : MANIFEST_TYPES[0]!);
}

