import { createHash, randomUUID } from "node:crypto";
import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { CairnError } from "../../errors/index.js";

/** What the Upgrade header promises about the bytes that follow. */
export interface SpoolExpectation {
  readonly size: number;
  readonly sha256: string;
}

/**
 * Writes an uploaded bundle to a fresh file in `dir` while hashing it, and
 * checks the header's promise: exactly `size` bytes (a truncated or
 * overlong upload is refused as soon as it is known) with digest `sha256`.
 * Returns the file's path; on any failure the file is removed and a
 * CairnError INVALID_ARGUMENT (or the stream's own error) is thrown.
 */
export async function spoolUpload(dir: string, expect: SpoolExpectation, chunks: AsyncIterable<Uint8Array>): Promise<string> {
  if (!Number.isSafeInteger(expect.size) || expect.size <= 0) throw new CairnError("INVALID_ARGUMENT", "the Upgrade header must give the bundle size in bytes");
  if (!/^[0-9a-f]{64}$/.test(expect.sha256)) throw new CairnError("INVALID_ARGUMENT", "the Upgrade header must give the bundle sha256 as 64 lowercase hex digits");
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${randomUUID()}.bundle`);
  const fh = await open(path, "wx", 0o600);
  try {
    const hash = createHash("sha256");
    let received = 0;
    for await (const chunk of chunks) {
      received += chunk.length;
      if (received > expect.size) throw new CairnError("INVALID_ARGUMENT", `upload is longer than the ${expect.size} bytes the header announced`);
      hash.update(chunk);
      await fh.write(chunk);
    }
    if (received !== expect.size) throw new CairnError("INVALID_ARGUMENT", `upload truncated: received ${received} of ${expect.size} bytes`);
    const digest = hash.digest("hex");
    if (digest !== expect.sha256) throw new CairnError("INVALID_ARGUMENT", `upload sha256 ${digest} does not match the header's ${expect.sha256}`);
    await fh.sync();
    await fh.close();
    return path;
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(path, { force: true });
    throw e;
  }
}

/** Removes spooled bundles left by an earlier boot (a crash mid-upload). */
export async function sweepSpool(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
