import { check, libc } from "./libc.js";

/** Creates a named pipe (Node has no mkfifo); the workload log sink reads from it. */
export async function makeFifo(path: string, mode = 0o600): Promise<void> {
  check(libc().mkfifo(path, mode), `mkfifo ${path}`);
}
