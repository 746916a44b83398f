import { readdir } from "node:fs/promises";

/**
 * Open file descriptors of this process. readdir opens /proc/self/fd itself
 * while it lists it, so that one entry is not counted.
 */
export async function countOpenFds(): Promise<number> {
  return Math.max(0, (await readdir("/proc/self/fd")).length - 1);
}
