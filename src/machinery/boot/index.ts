/** systemd-boot entries for Cairn's A/B slots: text, names with boot counters, and systemd-boot's choice among them. */
export { bootEntry, bootEntryFileName, kernelCmdline, loaderConf, slotEfiDir, SORT_KEY, type Slot } from "./boot-entry.js";
export { countedBootName, entrySlot, formatEntryName, parseEntryName, type EntryName } from "./entry-name.js";
export { compareEntries, parseLoaderEntry, selectDefaultEntry, versionCompare, type LoaderEntry } from "./entry-order.js";
export { assessBoot, slotEntry, type BootAssessment, type SlotHealth, type SlotView } from "./slot-status.js";
