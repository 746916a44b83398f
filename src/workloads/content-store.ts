import { createHash } from "node:crypto";
import { CairnError } from "../errors/index.js";
import { WriteAction, type WriteContentRequest, type WriteContentResponse } from "./containerd/api.js";
import { containerdError, hasCode, type CallExtras, type ContainerdClient } from "./containerd/client.js";
import { verifyDigest } from "./oci/digest.js";
import type { OciDescriptor } from "./oci/types.js";

/** containerd accepts up to 16 MiB per message; 1 MiB keeps memory flat. */
const CHUNK = 1024 * 1024;

/** True when containerd's content store already holds this digest. */
export async function hasBlob(ctd: ContainerdClient, digest: string, extras: CallExtras = {}): Promise<boolean> {
  try {
    await ctd.call(ctd.content.info.bind(ctd.content), { digest }, `content info ${digest}`, extras);
    return true;
  } catch (e) {
    if (hasCode(e, "NOT_FOUND")) return false;
    throw e;
  }
}

/**
 * Streams a blob into containerd's content store through Content.Write and
 * commits it under its expected digest and size: containerd re-hashes on
 * commit, and we hash as we send, so a blob that does not match its name is
 * never stored. A blob already present is skipped (its labels are merged).
 */
export async function writeBlob(
  ctd: ContainerdClient,
  desc: OciDescriptor,
  data: AsyncIterable<Uint8Array> | Uint8Array,
  labels: Record<string, string> = {},
  extras: CallExtras = {},
): Promise<void> {
  if (await hasBlob(ctd, desc.digest, extras)) {
    // Drain a stream we were handed so its producer (a tar entry) can go on.
    if (!(data instanceof Uint8Array)) for await (const _ of data) void _;
    await setBlobLabels(ctd, desc.digest, labels, extras);
    return;
  }
  const stream = ctd.content.write(ctd.metadata(extras), ctd.callOptions(extras));
  const responses = stream[Symbol.asyncIterator]() as AsyncIterator<WriteContentResponse>;
  const send = async (req: Partial<WriteContentRequest>): Promise<WriteContentResponse> => {
    stream.write({ action: WriteAction.WRITE, ref: "", total: 0, expected: "", offset: 0, data: Buffer.alloc(0), labels: {}, ...req });
    const next = await responses.next();
    if (next.done) throw new CairnError("UNAVAILABLE", `containerd: write ${desc.digest}: stream closed early`);
    return next.value;
  };
  const ref = `cairn-${desc.digest}`;
  const hash = createHash("sha256");
  let offset = 0;
  try {
    // The first message opens (or resumes) the ingest; offset 0 below restarts it.
    await send({ action: WriteAction.STAT, ref, total: desc.size, expected: desc.digest });
    const chunks = data instanceof Uint8Array ? [data] : data;
    for await (const chunk of chunks) {
      for (let i = 0; i < chunk.length; i += CHUNK) {
        const part = Buffer.from(chunk.subarray(i, Math.min(chunk.length, i + CHUNK)));
        hash.update(part);
        await send({ ref, offset, data: part });
        offset += part.length;
      }
    }
    verifyDigest(`sha256:${hash.digest("hex")}`, desc.digest, `blob ${desc.digest}`);
    if (offset !== desc.size) {
      throw new CairnError("FAILED_PRECONDITION", `blob ${desc.digest}: size mismatch: expected ${desc.size}, got ${offset}`);
    }
    await send({ action: WriteAction.COMMIT, ref, offset, total: desc.size, expected: desc.digest, labels });
    stream.end();
  } catch (e) {
    stream.cancel();
    if (hasGrpcCode(e, 6)) return; // another writer committed the same digest meanwhile
    throw isServiceError(e) ? containerdError(e, `write ${desc.digest}`) : e;
  }
}

/** Reads a whole (small: manifest, index, config) blob from the content store. */
export async function readBlob(ctd: ContainerdClient, digest: string, extras: CallExtras = {}): Promise<Buffer> {
  const parts: Buffer[] = [];
  const stream = ctd.content.read({ digest, offset: 0, size: 0 }, ctd.metadata(extras), ctd.callOptions(extras));
  try {
    for await (const msg of stream) parts.push(Buffer.from((msg as { data: Uint8Array }).data));
  } catch (e) {
    throw isServiceError(e) ? containerdError(e, `read ${digest}`) : e;
  }
  const body = Buffer.concat(parts);
  verifyDigest(`sha256:${createHash("sha256").update(body).digest("hex")}`, digest, `content ${digest}`);
  return body;
}

/** Reads and parses a JSON blob. */
export async function readJsonBlob<T>(ctd: ContainerdClient, digest: string, extras: CallExtras = {}): Promise<T> {
  return JSON.parse((await readBlob(ctd, digest, extras)).toString("utf8")) as T;
}

/** Merges labels into a committed blob (containerd's GC follows `containerd.io/gc.ref.*` labels). */
export async function setBlobLabels(
  ctd: ContainerdClient,
  digest: string,
  labels: Record<string, string>,
  extras: CallExtras = {},
): Promise<void> {
  const keys = Object.keys(labels);
  if (keys.length === 0) return;
  await ctd.call(
    ctd.content.update.bind(ctd.content),
    {
      info: { digest, size: 0, createdAt: undefined, updatedAt: undefined, labels },
      updateMask: keys.map((k) => `labels.${k}`),
    },
    `label content ${digest}`,
    extras,
  );
}

function isServiceError(e: unknown): e is import("@grpc/grpc-js").ServiceError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === "number" && "metadata" in e;
}

function hasGrpcCode(e: unknown, code: number): boolean {
  return isServiceError(e) && e.code === code;
}
