import { CairnError } from "../../errors/index.js";
import { slotEntry, SORT_KEY, type LoaderEntry } from "../../machinery/boot/index.js";
import type { BootStore, SlotName } from "../../platform/index.js";
import { otherSlot, readLoaderEntries } from "./slot-entries.js";

/**
 * A release written with stage_only sits in the inactive slot under a boot
 * counter and the fallback sort-key: it never booted, and systemd-boot
 * prefers the booted slot over it. These helpers find it, make it the
 * default (when the updater's reboot strategy allows the reboot), or drop
 * it (when the fleet marked its release bad).
 */

/** The staged entry of the inactive slot: never booted (fresh counter, no tries done) and not preferred. */
export function stagedEntry(entries: readonly LoaderEntry[], booted: SlotName): LoaderEntry | undefined {
  const e = slotEntry(entries, otherSlot(booted));
  if (!e || e.triesLeft === undefined || e.triesDone > 0 || e.triesLeft === 0) return undefined;
  return e;
}

/** Replaces the sort-key line of an entry's text, keeping everything else (kernel args included). */
export function withSortKey(text: string, sortKey: string): string {
  if (!/^sort-key .*$/m.test(text)) throw new CairnError("FAILED_PRECONDITION", "boot entry has no sort-key line");
  return text.replace(/^sort-key .*$/m, `sort-key ${sortKey}`);
}

/**
 * Makes the staged slot the default for the next boot, in the same order an
 * install without stage_only uses: first the staged entry becomes the
 * preferred one, then the booted entry is rewritten as the fallback (that
 * rename is the switch). The staged entry keeps its boot counter, so the
 * next boot is a trial and an unhealthy release falls back.
 */
export async function activateStaged(store: BootStore, booted: SlotName, version: string): Promise<{ slot: SlotName; entry: string }> {
  const entries = await readLoaderEntries(store);
  const staged = stagedEntry(entries, booted);
  if (!staged) throw new CairnError("FAILED_PRECONDITION", `no staged release in slot ${otherSlot(booted)}`);
  if (staged.version !== version) throw new CairnError("FAILED_PRECONDITION", `slot ${otherSlot(booted)} holds ${staged.version ?? "?"}, not ${version}`);
  const files = new Map((await store.listEntries()).map((e) => [e.file, e.text]));
  await store.writeEntry(staged.file, withSortKey(files.get(staged.file)!, SORT_KEY.preferred));
  const mine = slotEntry(entries, booted);
  if (mine) await store.writeEntry(mine.file, withSortKey(files.get(mine.file)!, SORT_KEY.fallback));
  return { slot: otherSlot(booted), entry: staged.file };
}

/** Removes the staged entry (its slot's files stay, unbootable without an entry). Returns the removed file. */
export async function discardStaged(store: BootStore, booted: SlotName): Promise<string | undefined> {
  const staged = stagedEntry(await readLoaderEntries(store), booted);
  if (!staged) return undefined;
  await store.removeEntry(staged.file);
  return staged.file;
}
