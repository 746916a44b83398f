import { randomUUID } from "node:crypto";
import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { CairnError } from "../../errors/index.js";

/**
 * What the Upgrade header promises about the bytes that follow. The
 * whole-bundle `sha256` is checked for its form only: the streaming verifier
 * already authenticates every byte (the signed manifest, each part's sha256,
 * the total size), and a second sha256 pass over the bundle cost ~1 s of the
 * node's CPU per 56 MB under TCG (docs/upgrades.md, "Upgrade benchmark").
 */
export interface SpoolExpectation {
  readonly size: number;
  readonly sha256: string;
}

/** Checks the shape of a header's promise before any byte is accepted. */
export function checkExpectation(expect: SpoolExpectation): void {
  if (!Number.isSafeInteger(expect.size) || expect.size <= 0) throw new CairnError("INVALID_ARGUMENT", "the Upgrade header must give the bundle size in bytes");
  if (!/^[0-9a-f]{64}$/.test(expect.sha256)) throw new CairnError("INVALID_ARGUMENT", "the Upgrade header must give the bundle sha256 as 64 lowercase hex digits");
}

/**
 * Writes a bundle (an upload or a download) to a fresh file in `dir`,
 * handing every chunk to `inspect` first (the streaming verifier, which
 * throws the moment the bundle is bad). With `expect` it checks the header's
 * size promise: exactly `size` bytes (a truncated or overlong upload is
 * refused as soon as it is known). Returns
 * the file's path; on any failure the file is removed and a CairnError
 * INVALID_ARGUMENT (or the stream's or `inspect`'s own error) is thrown.
 * Not fsynced: a spool does not outlive its boot (swept at the next one).
 */
export async function spoolUpload(
  dir: string,
  expect: SpoolExpectation | undefined,
  chunks: AsyncIterable<Uint8Array>,
  inspect: (chunk: Uint8Array) => void = () => undefined,
): Promise<string> {
  if (expect) checkExpectation(expect);
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${randomUUID()}.bundle`);
  const fh = await open(path, "wx", 0o600);
  try {
    let received = 0;
    for await (const chunk of chunks) {
      received += chunk.length;
      if (expect && received > expect.size) throw new CairnError("INVALID_ARGUMENT", `upload is longer than the ${expect.size} bytes the header announced`);
      inspect(chunk);
      await fh.write(chunk);
    }
    if (expect && received !== expect.size) throw new CairnError("INVALID_ARGUMENT", `upload truncated: received ${received} of ${expect.size} bytes`);
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
