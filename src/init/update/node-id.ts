import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { CairnError } from "../../errors/index.js";
import { readTextIfExists, writeFileAtomic } from "../../machinery/fs/index.js";

/** A node id: what the fleet's reboot semaphore accepts as a holder name. */
const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * This node's stable id, `STATE/node-id`: created once (random, not the
 * hostname, which may repeat across a fleet), then kept across reboots,
 * upgrades and `reset --wipe state` (which removes only the config). It
 * names the node's reboot-lock slot and seeds its rollout jitter.
 */
export async function loadNodeId(stateDir: string): Promise<string> {
  const path = join(stateDir, "node-id");
  const existing = (await readTextIfExists(path))?.trim();
  if (existing && NODE_ID.test(existing)) return existing;
  const id = `node-${randomBytes(8).toString("hex")}`;
  try {
    // overwrite only an unusable file; two writers racing keep the first id.
    await writeFileAtomic(path, `${id}\n`, { overwrite: existing !== undefined });
  } catch (e) {
    if (!(e instanceof CairnError && e.code === "ALREADY_EXISTS")) throw e;
    return ((await readTextIfExists(path)) ?? id).trim();
  }
  return id;
}
