import type { Slot } from "./boot-entry.js";

/** A boot entry file name taken apart the way systemd-boot reads boot counters. */
export interface EntryName {
  /** The file name, e.g. `cairn-b+2-1.conf`. */
  readonly file: string;
  /** The name without counter and `.conf`, e.g. `cairn-b`. */
  readonly id: string;
  /** Tries left; undefined when the name has no counter (blessed or factory). */
  readonly triesLeft: number | undefined;
  /** Tries done; 0 when the counter has none (`+3`). */
  readonly triesDone: number;
}

const COUNTER = /^(.+?)\+(\d+)(?:-(\d+))?\.conf$/;

/**
 * Parses `<id>[+LEFT[-DONE]].conf` (Boot Loader Specification boot
 * counting). Returns undefined for a name that is not a `.conf` entry.
 */
export function parseEntryName(file: string): EntryName | undefined {
  if (!file.endsWith(".conf") || file.startsWith(".")) return undefined;
  const m = COUNTER.exec(file);
  if (m) return { file, id: m[1]!, triesLeft: Number(m[2]), triesDone: m[3] === undefined ? 0 : Number(m[3]) };
  return { file, id: file.slice(0, -".conf".length), triesLeft: undefined, triesDone: 0 };
}

/** The file name for an id and counter, the inverse of parseEntryName. */
export function formatEntryName(id: string, triesLeft?: number, triesDone = 0): string {
  if (triesLeft === undefined) return `${id}.conf`;
  return triesDone > 0 ? `${id}+${triesLeft}-${triesDone}.conf` : `${id}+${triesLeft}.conf`;
}

/**
 * The name systemd-boot renames an entry to just before booting it:
 * `+LEFT-DONE` becomes `+(LEFT-1)-(DONE+1)`. An entry without a counter or
 * with none left keeps its name.
 */
export function countedBootName(e: EntryName): string {
  if (e.triesLeft === undefined || e.triesLeft === 0) return e.file;
  return formatEntryName(e.id, e.triesLeft - 1, e.triesDone + 1);
}

/** The slot a Cairn entry id belongs to (`cairn-a` → A), if it is ours. */
export function entrySlot(id: string): Slot | undefined {
  if (id === "cairn-a") return "A";
  if (id === "cairn-b") return "B";
  return undefined;
}
