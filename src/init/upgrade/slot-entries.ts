import { assessBoot, parseLoaderEntry, type BootAssessment, type LoaderEntry } from "../../machinery/boot/index.js";
import type { BootStore, SlotName } from "../../platform/index.js";

/** The Cairn entries on the EFI partition, parsed. */
export async function readLoaderEntries(store: BootStore): Promise<LoaderEntry[]> {
  return (await store.listEntries()).flatMap((e) => parseLoaderEntry(e.file, e.text) ?? []);
}

/** Reads the entries and assesses the boot (see assessBoot). */
export async function readAssessment(store: BootStore, booted: { slot: SlotName; version: string }): Promise<BootAssessment> {
  return assessBoot(await readLoaderEntries(store), booted);
}

/** The other slot of the pair. */
export function otherSlot(slot: SlotName): SlotName {
  return slot === "A" ? "B" : "A";
}
