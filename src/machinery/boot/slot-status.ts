import type { Slot } from "./boot-entry.js";
import { entrySlot } from "./entry-name.js";
import { compareEntries, selectDefaultEntry, type LoaderEntry } from "./entry-order.js";

/** Boot-assessment state of a slot, as Version reports it. */
export type SlotHealth = "empty" | "good" | "pending" | "bad";

/** One slot as the boot entries describe it. */
export interface SlotView {
  readonly name: Slot;
  readonly version: string;
  readonly health: SlotHealth;
  readonly triesLeft: number;
  readonly isDefault: boolean;
  readonly entry: LoaderEntry | undefined;
}

/** What the entries on the EFI partition say about this boot. */
export interface BootAssessment {
  readonly slots: readonly [SlotView, SlotView];
  /** The booted slot's entry still carries a counter: this boot is a trial the node must bless. */
  readonly trial: boolean;
  /** Set when systemd-boot fell back: the other slot was preferred but ran out of tries. */
  readonly rolledBackFrom: { readonly slot: Slot; readonly version: string; readonly reason: string } | undefined;
}

const other = (s: Slot): Slot => (s === "A" ? "B" : "A");

/** The entry of `slot` (the first in boot order should there be several). */
export function slotEntry(entries: readonly LoaderEntry[], slot: Slot): LoaderEntry | undefined {
  return entries.filter((e) => entrySlot(e.id) === slot).sort(compareEntries)[0];
}

/**
 * Derives both slots' state from the entries and what booted. A slot
 * without entry is empty; without counter good; with tries left pending;
 * with none left bad, except the booted slot, which is on its last try.
 * A fallback boot is recognised by the other slot's entry: out of tries
 * and ordered before the booted one if tries were ignored.
 */
export function assessBoot(entries: readonly LoaderEntry[], booted: { slot: Slot; version: string }): BootAssessment {
  const def = selectDefaultEntry(entries);
  const view = (name: Slot): SlotView => {
    const entry = slotEntry(entries, name);
    const isBooted = name === booted.slot;
    const version = isBooted ? booted.version : (entry?.version ?? "");
    const isDefault = def ? entrySlot(def.id) === name : isBooted;
    if (!entry) return { name, version, health: isBooted ? "good" : "empty", triesLeft: 0, isDefault, entry };
    if (entry.triesLeft === undefined) return { name, version, health: "good", triesLeft: 0, isDefault, entry };
    const health = entry.triesLeft > 0 || isBooted ? "pending" : "bad";
    return { name, version, health, triesLeft: entry.triesLeft, isDefault, entry };
  };
  const slots = [view("A"), view("B")] as const;
  const mine = slots.find((s) => s.name === booted.slot)!;
  const theirs = slots.find((s) => s.name === other(booted.slot))!;
  let rolledBackFrom: BootAssessment["rolledBackFrom"];
  if (theirs.entry?.triesLeft === 0 && mine.entry) {
    const untried = (e: LoaderEntry): LoaderEntry => ({ ...e, triesLeft: undefined });
    if (compareEntries(untried(theirs.entry), untried(mine.entry)) < 0) {
      rolledBackFrom = {
        slot: theirs.name,
        version: theirs.version,
        reason: `slot ${theirs.name} (${theirs.version || "unknown version"}) used all ${theirs.entry.triesDone} boot tries without being blessed; slot ${booted.slot} booted instead`,
      };
    }
  }
  return { slots, trial: mine.entry?.triesLeft !== undefined, rolledBackFrom };
}
