import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * True if `pid` names a live process. A zombie counts as gone: QEMU launched
 * by a process that has since exited is reparented to whatever PID 1 this
 * host runs, and that one may not reap promptly, while `kill(pid, 0)` still
 * succeeds on a zombie.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 3 follows the parenthesised command name, which may itself contain ") ".
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/**
 * True if `pid` is alive and its command line mentions `marker` (we pass the
 * node's QMP socket path). Guards against killing an unrelated process that
 * reused the pid of a QEMU that died long ago.
 */
export function isProcessFor(pid: number, marker: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").some((a) => a.includes(marker));
  } catch {
    return false;
  }
}

/** Polls until `pid` is gone; true if it went within `timeoutMs`. */
export async function waitForPidGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(25);
  }
  return true;
}
