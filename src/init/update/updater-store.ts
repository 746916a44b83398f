import { join } from "node:path";
import type { ChannelRelease, SeenChannel } from "../../machinery/release/index.js";
import type { HolderState } from "../../machinery/fleet/index.js";
import type { UpdaterState } from "../../machinery/update/index.js";
import { readTextIfExists, writeFileAtomic } from "../../machinery/fs/index.js";

/** A reboot the updater started: what the next boot must find to count it as done, or as a rollback. */
export interface PendingReboot {
  readonly version: string;
  readonly fromVersion: string;
  readonly fromSlot: string;
  readonly at: number;
}

/** Everything the updater keeps on STATE between ticks, boots and upgrades. */
export interface PersistedUpdater {
  readonly policy: UpdaterState;
  /** The release picked by the last check (its url, size and sha256 for the download). */
  readonly release?: ChannelRelease;
  /** The newest channel document accepted (rollback/replay protection). */
  readonly seen?: SeenChannel;
  /** The etcd slot this node holds (resumed by the next boot). */
  readonly holder?: HolderState;
  /** Whether this node holds a FleetLock slot (pre-reboot done, steady-state not yet). */
  readonly fleetLockHeld?: boolean;
  readonly pending?: PendingReboot;
  /** Releases this node rolled back from (never installed again). */
  readonly bad: readonly string[];
  /** Set when this node rolled back: its slot is kept so the rest of the fleet halts. */
  readonly halted?: { readonly version: string; readonly reason: string };
}

export const EMPTY_UPDATER: PersistedUpdater = { policy: { lock: "none" }, bad: [] };

/** STATE/update/updater.json, written atomically; an unreadable file starts afresh (and says so). */
export class UpdaterStore {
  readonly path: string;

  constructor(stateDir: string) {
    this.path = join(stateDir, "update", "updater.json");
  }

  async load(onCorrupt: (why: string) => void): Promise<PersistedUpdater> {
    const text = await readTextIfExists(this.path);
    if (text === undefined) return EMPTY_UPDATER;
    try {
      const v = JSON.parse(text) as PersistedUpdater;
      if (typeof v !== "object" || v === null || typeof v.policy !== "object" || !Array.isArray(v.bad)) throw new Error("not an updater state");
      return v;
    } catch (e) {
      onCorrupt((e as Error).message);
      return EMPTY_UPDATER;
    }
  }

  async save(s: PersistedUpdater): Promise<void> {
    await writeFileAtomic(this.path, `${JSON.stringify(s, null, 1)}\n`);
  }
}
