import type { Readable } from "node:stream";
import tar from "tar-stream";
import { CairnError } from "../errors/index.js";
import type { ContainerdClient } from "./containerd/client.js";
import { readJsonBlob, writeBlob } from "./content-store.js";
import { assertDigest } from "./oci/digest.js";
import { selectPlatform } from "./oci/platform.js";
import { INDEX_TYPES, MANIFEST_TYPES, type OciDescriptor, type OciIndex, type OciManifest } from "./oci/types.js";
import { labelIndex, labelManifest, storeImageRecord, unpackByName } from "./images.js";
import { withLease } from "./leases.js";
import { DEFAULT_SNAPSHOTTER } from "./unpack.js";

export interface ImportOptions {
  /** Image name to record when the archive's index does not carry a full one. */
  readonly name?: string;
  readonly snapshotter?: string;
}

const BLOB_PATH = /^(?:\.\/)?blobs\/sha256\/([a-f0-9]{64})$/;
const NAME_ANNOTATIONS = ["io.containerd.image.name", "org.opencontainers.image.ref.name"] as const;

/**
 * Imports an OCI image layout archive (a tar with oci-layout, index.json and
 * blobs/sha256/*): every blob streams into containerd's content store
 * (verified against its file name), then each manifest named in index.json
 * becomes an image record, and the node's platform is unpacked. Works with no
 * registry reachable. Returns the image names created.
 */
export async function importOciArchive(ctd: ContainerdClient, archive: Readable, opts: ImportOptions = {}): Promise<string[]> {
  const snapshotter = opts.snapshotter ?? DEFAULT_SNAPSHOTTER;
  return withLease(ctd, async (lease) => {
    const extras = { lease };
    let index: OciIndex | undefined;
    let layout = false;
    const extract = tar.extract();
    archive.on("error", (e) => extract.destroy(e));
    archive.pipe(extract);
    for await (const entry of extract) {
      const path = entry.header.name;
      const blob = BLOB_PATH.exec(path);
      if (entry.header.type === "file" && blob) {
        const digest = `sha256:${blob[1]}`;
        // The media type is not known yet; containerd's content store does not need it.
        await writeBlob(ctd, { mediaType: "application/octet-stream", digest, size: entry.header.size ?? 0 }, entry as AsyncIterable<Buffer>, {}, extras);
      } else if (path === "index.json" || path === "./index.json") {
        index = parseJson<OciIndex>(await readAll(entry as AsyncIterable<Buffer>), "archive index.json");
      } else {
        if (path === "oci-layout" || path === "./oci-layout") layout = true;
        else if (path === "manifest.json" || path === "./manifest.json") {
          entry.resume();
          throw new CairnError("INVALID_ARGUMENT", "archive: a docker-save archive (manifest.json) is not supported; export an OCI layout (oci-layout, index.json)");
        }
        entry.resume();
      }
    }
    if (!layout || !index) {
      throw new CairnError("INVALID_ARGUMENT", `archive: not an OCI image layout (${!layout ? "oci-layout" : "index.json"} missing)`);
    }
    if (!Array.isArray(index.manifests) || index.manifests.length === 0) {
      throw new CairnError("INVALID_ARGUMENT", "archive index.json: manifests is empty");
    }
    const names: string[] = [];
    for (const [i, desc] of index.manifests.entries()) {
      const where = `archive index.json manifests[${i}]`;
      assertDigest(desc.digest, where);
      const name = imageName(desc, opts.name, where);
      await labelTree(ctd, desc, where, extras);
      await storeImageRecord(ctd, name, desc, extras);
      await unpackByName(ctd, name, snapshotter, extras);
      names.push(name);
    }
    return names;
  });
}

/** Labels index → manifests → config/layers so containerd's GC keeps the whole tree with the image. */
async function labelTree(ctd: ContainerdClient, desc: OciDescriptor, where: string, extras: { lease: string }): Promise<void> {
  if (INDEX_TYPES.includes(desc.mediaType)) {
    const index = await readJsonBlob<OciIndex>(ctd, desc.digest, extras);
    await labelIndex(ctd, desc, index, extras);
    const mine = selectPlatform(index, where);
    await labelTree(ctd, mine, where, extras);
    return;
  }
  if (!MANIFEST_TYPES.includes(desc.mediaType)) {
    throw new CairnError("INVALID_ARGUMENT", `${where}: unsupported media type ${desc.mediaType}`);
  }
  const manifest = await readJsonBlob<OciManifest>(ctd, desc.digest, extras);
  await labelManifest(ctd, desc, manifest, extras);
}

function imageName(desc: OciDescriptor, override: string | undefined, where: string): string {
  if (override) return override;
  for (const key of NAME_ANNOTATIONS) {
    const v = desc.annotations?.[key];
    // A bare tag ("latest") in ref.name is not a usable image name on its own.
    if (v && (v.includes("/") || v.includes(":"))) return v;
  }
  throw new CairnError("INVALID_ARGUMENT", `${where}: no image name in its annotations; give one (name)`);
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(p);
  return Buffer.concat(parts);
}

function parseJson<T>(buf: Buffer, what: string): T {
  try {
    return JSON.parse(buf.toString("utf8")) as T;
  } catch (e) {
    throw new CairnError("INVALID_ARGUMENT", `${what}: not valid JSON`, { cause: e });
  }
}
