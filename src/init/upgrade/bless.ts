import { formatEntryName } from "../../machinery/boot/index.js";
import type { BootStore, SlotName } from "../../platform/index.js";
import { readLoaderEntries } from "./slot-entries.js";

/**
 * Blesses the booted slot: renames its entry to drop the boot counter
 * (`cairn-b+2-1.conf` → `cairn-b.conf`), as systemd-bless-boot does, so
 * systemd-boot no longer counts its boots. Returns the rename, or
 * undefined when there was no counter.
 */
export async function blessSlot(store: BootStore, slot: SlotName): Promise<{ from: string; to: string } | undefined> {
  const id = `cairn-${slot.toLowerCase()}`;
  const entry = (await readLoaderEntries(store)).find((e) => e.id === id && e.triesLeft !== undefined);
  if (!entry) return undefined;
  const to = formatEntryName(id);
  await store.renameEntry(entry.file, to);
  return { from: entry.file, to };
}
