import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { CairnError } from "../errors/index.js";

const run = promisify(execFile);
const GiB = 1024 ** 3;

/** Default virtual size of a node disk: enough room for EPHEMERAL to grow past the base image. */
export const DEFAULT_DISK_SIZE_GIB = 4;

/**
 * Picks the overlay's virtual size in bytes: the requested size, or the larger
 * of the base image and DEFAULT_DISK_SIZE_GIB. A request smaller than the base
 * is an error (qemu-img would truncate the view of the base).
 */
export function overlaySizeBytes(baseBytes: number, requestedGiB: number | undefined): number {
  if (requestedGiB === undefined) return Math.max(baseBytes, DEFAULT_DISK_SIZE_GIB * GiB);
  const bytes = Math.ceil(requestedGiB * GiB);
  if (bytes < baseBytes) {
    throw new CairnError("INVALID_ARGUMENT", `diskSizeGiB ${requestedGiB} is smaller than the base image (${baseBytes} bytes)`);
  }
  return bytes;
}

/**
 * Creates a qcow2 copy-on-write overlay over a raw base image, so nodes never
 * write the shared base and start instantly whatever its size. The backing
 * path is stored absolute so the overlay works from any working directory.
 */
export async function createOverlay(baseImage: string, overlay: string, diskSizeGiB?: number): Promise<void> {
  const base = resolve(baseImage);
  let baseBytes: number;
  try {
    baseBytes = (await stat(base)).size;
  } catch (cause) {
    throw new CairnError("NOT_FOUND", `base image ${base} not found`, { cause, hint: "build one with the image builder (dist/cairn-*-amd64.raw)" });
  }
  const size = overlaySizeBytes(baseBytes, diskSizeGiB);
  try {
    await run("qemu-img", ["create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", overlay, String(size)]);
  } catch (cause) {
    const stderr = (cause as { stderr?: string }).stderr?.trim() ?? "";
    throw new CairnError("INTERNAL", `qemu-img create ${overlay} over ${base} failed: ${stderr}`, { cause });
  }
}
