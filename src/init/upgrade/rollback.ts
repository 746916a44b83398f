import { CairnError } from "../../errors/index.js";
import { bootEntry, slotEntry, SORT_KEY } from "../../machinery/boot/index.js";
import type { BootStore, SlotName } from "../../platform/index.js";
import { otherSlot, readLoaderEntries } from "./slot-entries.js";

/**
 * Makes the other slot the default if it holds a blessed (counter-free)
 * entry: the booted slot's entry becomes the fallback, then the other's
 * the preferred one. FAILED_PRECONDITION when there is nothing good to go back to.
 */
export async function rollbackToOther(store: BootStore, booted: { slot: SlotName; version: string }): Promise<{ slot: SlotName; version: string }> {
  const target = otherSlot(booted.slot);
  const entries = await readLoaderEntries(store);
  const theirs = slotEntry(entries, target);
  if (!theirs) throw new CairnError("FAILED_PRECONDITION", `cannot roll back: slot ${target} holds no installed version`);
  if (theirs.triesLeft !== undefined) {
    throw new CairnError("FAILED_PRECONDITION", `cannot roll back: slot ${target} (${theirs.version ?? "?"}) was never blessed (boot counter ${theirs.file})`);
  }
  const version = theirs.version ?? "";
  const mine = slotEntry(entries, booted.slot);
  if (mine) await store.writeEntry(mine.file, bootEntry(booted.slot, booted.version, SORT_KEY.fallback));
  await store.writeEntry(theirs.file, bootEntry(target, version, SORT_KEY.preferred));
  return { slot: target, version };
}
