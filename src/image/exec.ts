import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/**
 * Runs a host tool and returns its stdout. Throws with the command line and
 * the tool's stderr on a non-zero exit, so a failed build step says which
 * tool failed and why instead of leaving a half-written artifact unexplained.
 */
export function run(cmd: string, args: readonly string[], opts: SpawnSyncOptions = {}): string {
  const res = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...opts });
  if (res.error) throw new Error(`${cmd}: ${res.error.message}`, { cause: res.error });
  if (res.status !== 0) {
    const stderr = String(res.stderr ?? "").trim().split("\n").slice(-15).join("\n");
    throw new Error(`${cmd} ${args.join(" ")} exited ${res.status}:\n${stderr}`);
  }
  return String(res.stdout ?? "");
}

/** Streams a file through sha256 (parts are too big to read whole on a small VM). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** sha256 hex of a string or bytes: cache keys and manifest digests. */
export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
